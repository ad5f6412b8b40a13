// Command custos is the vault's one binary: `custos server` runs it, and
// every other verb is a client of its HTTP API. Usage: custos help.
//
// Every verb is declared once, in commands.go; dispatch, help, usage
// errors and docs/cli.md's command table come from that declaration.
package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/custos-vault/custos/internal/cliflags"
	"github.com/custos-vault/custos/internal/keyfile"
	"github.com/custos-vault/custos/internal/printable"
	"io"
	"os"
	"slices"
	"strings"
)

// errUsage marks errors of how a verb was typed: one line, a pointer to
// its --help, exit status 2.
var errUsage = errors.New("usage")

// current is the command being run, for help and usage errors.
var current *command

// helpOut is where --help writes (standard output).
var helpOut io.Writer = os.Stdout

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	msg := strings.TrimPrefix(err.Error(), "usage: ")
	fmt.Fprintf(os.Stderr, "custos: error: %s\n", oneLine(msg))
	if errors.Is(err, errUsage) {
		if current != nil {
			for _, c := range commands {
				if c.name == current.name {
					fmt.Fprintf(os.Stderr, "usage: custos %s\n", strings.TrimSpace(c.name+" "+c.args))
				}
			}
			fmt.Fprintf(os.Stderr, "Run 'custos %s --help' for more.\n", current.name)
		} else {
			fmt.Fprintln(os.Stderr, "Run 'custos help' for the list of commands.")
		}
		os.Exit(2)
	}
	if errors.Is(err, errInput) || errors.Is(err, keyfile.ErrMalformed) {
		// A file or value the user named is missing, unreadable or not
		// what the flag takes: a mistake in the command, not a finding.
		os.Exit(2)
	}
	if errors.Is(err, errAuditFailed) {
		var kn keyNotTrusted
		if errors.As(err, &kn) {
			fmt.Fprintln(os.Stderr, "First: compare the key you gave (--key) with the one you were given, character by character; a mistyped key fails before anything is checked. Only if they match is this a finding.")
		}
		if errors.As(err, new(*exportFailure)) {
			fmt.Fprintln(os.Stderr, exportFailedAdvice)
		} else {
			fmt.Fprintln(os.Stderr, auditFailedAdvice)
		}
	}
	os.Exit(1)
}

// auditFailedAdvice follows an audit's finding on standard error: what
// an auditor does next.
const auditFailedAdvice = `What to do: keep the vault, its data folder and its log store as they are (do not restart, restore or repair anything yet), keep this message, and follow docs/operations.md, "Incident response: a failed audit".`

// exportFailedAdvice follows a failed audit of an export folder: a copy
// made and carried by people, which a mistake in the copying fails as
// much as a change by an insider, so the first step is another copy.
const exportFailedAdvice = `What to do: an export is a copy of the log, made and carried by people. Keep this folder as it is and keep this message; ask the vault's auditors for the export again, copied as bytes (in a zip or tar file), with the key as they published it. If a new export fails alike, or the vault's own audit (custos audit verify) fails, the vault's operators follow docs/operations.md, "Incident response: a failed audit".`

// exportFailure is an audit of an export folder that failed (audit
// verify --store DIR, audit log --store DIR).
type exportFailure struct{ err error }

func (e *exportFailure) Error() string { return e.err.Error() }
func (e *exportFailure) Unwrap() error { return e.err }

// errInput marks an error about a file the user named on the command
// line (missing or unreadable): exit status 2, as a usage error, so that
// a mistyped file name is never taken for a failed check.
var errInput = errors.New("input")

// inputErr marks err (reading a file named by flag) as errInput.
func inputErr(flag string, err error) error {
	if err == nil {
		return nil
	}
	return &inputError{flag: flag, err: err}
}

type inputError struct {
	flag string
	err  error
}

func (e *inputError) Error() string {
	if strings.HasPrefix(e.err.Error(), e.flag) {
		return e.err.Error()
	}
	return e.flag + ": " + e.err.Error()
}
func (e *inputError) Unwrap() []error { return []error{errInput, e.err} }

// oneLine is an error's text as the terminal shows it: one line, and
// nothing in it that a terminal would act on or that hides (but the
// joiners writing needs where they stand: printable.Readable), since
// much of it may come from the vault or from the network between.
func oneLine(s string) string {
	return printable.Readable(strings.ReplaceAll(strings.TrimSpace(s), "\n", "; "))
}

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func run(args []string, stdout, stderr io.Writer) error {
	helpOut = stdout
	current = nil
	if len(args) == 0 {
		return usageErr("no command given")
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 && args[0] == "help" {
			if c, rest := lookup(args[1:]); c != nil && len(rest) == 0 {
				current = c
				printHelp(stdout, c, nil)
				return nil
			}
			if len(args) == 2 && known(args[1]) {
				// `custos help case`: the family's commands, as
				// `custos case` lists them.
				printFamily(stdout, args[1])
				return nil
			}
			return usageErr("no command %q (custos help lists them)", strings.Join(args[1:], " "))
		}
		printOverview(stdout)
		return nil
	}
	if args[0] == "--version" || args[0] == "-version" {
		// What people type first, for `custos version`.
		args = append([]string{"version"}, args[1:]...)
	}
	c, rest := lookup(args)
	if c == nil && known(args[0]) && (len(args) == 1 || isHelpFlag(args[1])) {
		// `custos package --help`: the family's commands.
		printFamily(stdout, args[0])
		if len(args) == 1 {
			return usageErr("%q needs a sub-command: one of those above", args[0])
		}
		return nil
	}
	if c == nil {
		if len(args) > 1 && known(args[0]) {
			return usageErr("unknown command %q (%scustos help lists them)", args[0]+" "+args[1], didYouMean(args[1], subCommands(args[0]), args[0]+" "))
		}
		if known(args[0]) {
			return usageErr("%q needs a sub-command (custos help lists them)", args[0])
		}
		return usageErr("unknown command %q (%scustos help lists them)", args[0], didYouMean(args[0], subCommands(""), ""))
	}
	current = c
	return c.run(rest, stdout, stderr)
}

// subCommands lists the words that follow family in the commands' names
// (for "", the commands' first words), once each.
func subCommands(family string) []string {
	var out []string
	for _, c := range commands {
		name := c.name
		if family != "" {
			rest, ok := strings.CutPrefix(name, family+" ")
			if !ok {
				continue
			}
			name = rest
		}
		word, _, _ := strings.Cut(name, " ")
		if !slices.Contains(out, word) {
			out = append(out, word)
		}
	}
	return out
}

// didYouMean is "did you mean PREFIXWORD? " for the word among
// candidates that a mistyped word was most likely meant to be
// (cliflags.Closest), or "".
func didYouMean(word string, candidates []string, prefix string) string {
	if c := cliflags.Closest(word, candidates); c != "" {
		return "did you mean custos " + prefix + c + "? "
	}
	return ""
}

func isHelpFlag(s string) bool { return s == "-h" || s == "--help" || s == "-help" || s == "help" }

// printFamily lists the commands whose name starts with word, as
// `custos help` does.
func printFamily(w io.Writer, word string) {
	fmt.Fprintf(w, "custos %s has these commands (custos %s COMMAND --help for each):\n", word, word)
	for _, c := range commands {
		if strings.HasPrefix(c.name, word+" ") {
			fmt.Fprintf(w, "  %-46s  %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
		}
	}
}

// printOverview is `custos help`: every command by group, one line each.
func printOverview(w io.Writer) {
	fmt.Fprintln(w, "Usage: custos COMMAND [flags] [args]   (custos COMMAND --help for its flags and examples)")
	fmt.Fprintln(w, "\nClients read CUSTOS_SERVER (and CUSTOS_CACERT, the vault's CA certificate, where")
	fmt.Fprintln(w, "the vault's TLS certificate is not publicly trusted) and your sign-in (custos login,")
	fmt.Fprintln(w, "or CUSTOS_TOKEN, or CUSTOS_CLIENT_CERT and CUSTOS_CLIENT_KEY); with --json a command")
	fmt.Fprintln(w, "prints one JSON object. Without the vault, custos audit verify --store and custos")
	fmt.Fprintln(w, "audit log --store check and read an export folder or the log's own store")
	fmt.Fprintln(w, "(docs/operations.md, \"Auditing without the vault\").")
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g)
		for _, c := range commands {
			if c.group != g {
				continue
			}
			syn := strings.TrimSpace(c.name + " " + c.args)
			if len(syn) > 46 {
				fmt.Fprintf(w, "  %s\n  %-46s  %s\n", syn, "", c.summary)
				continue
			}
			fmt.Fprintf(w, "  %-46s  %s\n", syn, c.summary)
		}
	}
	fs, _ := newServerFlags()
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	fmt.Fprintf(w, "\nServer flags (custos server --help explains each; each is also a config-file key):\n%s\n", indent(wrap(strings.Join(names, " "), 74), "  "))
	fmt.Fprintln(w, "\nOffline verification of packages: custos-verify PACKAGE (--key KEY | --trusted-keys FILE | --checkpoint FILE) [--identity FILE] (custos-verify --help)")
	fmt.Fprintln(w, "Documentation: docs/cli.md, docs/identity.md, docs/operations.md; hotline work (reports, classification, hash sets, takedown): docs/hotline.md.")
}

// longDetails is the length of a command's details, in bytes, beyond
// which --help gives them after the flags and examples (about ten lines).
const longDetails = 760

// printHelp is `custos COMMAND --help`: the synopsis, who may use it,
// what it does, its flags (from the flag set, when it is known) and
// examples; details longer than longDetails come last.
func printHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	if c.name == "report" {
		// One word, two things: an analyst asking for help with the
		// hotline's reports is told where they are before the court's
		// document of a case's custody.
		fmt.Fprintf(w, "custos report has two uses:\n  hotline reports (analysts): custos report new|list|show|assess|notice|acknowledged|removed|forward|close|reopen\n    (custos report COMMAND --help for each; docs/hotline.md)\n  a case's chain-of-custody report for a court (auditors, custodians): below\n\n")
	}
	// Two declarations share `login`: one help shows the usage of both.
	for _, d := range commands {
		if d.name != c.name {
			continue
		}
		fmt.Fprintf(w, "usage: custos %s\n", strings.TrimSpace(d.name+" "+d.args))
	}
	fmt.Fprintf(w, "\n%s\n", wrap(upper(c.summary)+".", 76))
	// A long paragraph (deposit's, audit verify's) would put the flags
	// and examples a screen or more below the usage: it follows them.
	later := len(c.details) > longDetails
	if c.details != "" && !later {
		fmt.Fprintf(w, "%s\n", wrap(c.details, 76))
	} else if later {
		fmt.Fprintln(w, "(In detail: after the flags and examples, below.)")
	}
	if c.who != "" {
		fmt.Fprintf(w, "\nWho: %s.\n", c.who)
	}
	if fs != nil {
		shown := map[string]string{}
		for _, d := range commands {
			if d.name == c.name {
				for flag, value := range usageValues(d.args) {
					shown[flag] = value
				}
			}
		}
		var b strings.Builder
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			fmt.Fprintf(&b, "  %s%s", dash, f.Name)
			if v, ok := shown[f.Name]; ok && name != "" && v != "" && v != exampleValue {
				// The usage line's word for the value, so that the two
				// never disagree (--checkpoint FILE, not TEXT).
				fmt.Fprintf(&b, " %s", v)
			} else if name != "" {
				fmt.Fprintf(&b, " %s", placeholder(name))
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" && f.DefValue != "[]" && !strings.Contains(usage, "(default") {
				usage += " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(&b, "\n%s\n", indent(wrap(usage, 70), "        "))
		})
		if b.Len() > 0 {
			fmt.Fprintf(w, "\nFlags:\n%s", b.String())
		}
	}
	if c.json != "" {
		fmt.Fprintf(w, "\nWith --json it prints %s.\n", c.json)
	}
	var ex []string
	for _, d := range commands {
		if d.name == c.name {
			ex = append(ex, d.examples...)
		}
	}
	if len(ex) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range ex {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if later {
		fmt.Fprintf(w, "\nIn detail:\n%s\n", wrap(c.details, 76))
	}
	// A command that also names a family (custos report, and custos
	// report new, list ...): the others, so that they are found.
	var family []string
	for _, d := range commands {
		if strings.HasPrefix(d.name, c.name+" ") && !slices.Contains(family, d.name) {
			family = append(family, d.name)
		}
	}
	if len(family) > 0 {
		fmt.Fprintf(w, "\nSee also: %s (custos %s COMMAND --help for each).\n", strings.Join(family, ", "), c.name)
		if c.name == "report" {
			// One word, two things: the court's report of a case's
			// custody (above) and the hotline's reports from the public.
			fmt.Fprintln(w, "Those are hotline reports: URLs reported by the public or a partner, assessed, noticed and forwarded (docs/hotline.md).")
		}
	}
}

// exampleValue is what usageValues gives for a flag the usage line shows
// with an example value ("--listen 127.0.0.1:PORT") rather than a word
// for its kind: the flag list then shows the flag's own placeholder.
const exampleValue = "*"

// usageValues reads a command's usage line (its args, as "[--key KEY]
// -o FILE --category a|b") and returns, for every flag it names, the word
// it shows for the flag's value: "" for a flag shown without one.
// Alternatives of flags ("--expect-sha256 H|--expect-from SUMS") are
// separate flags.
func usageValues(args string) map[string]string {
	args = strings.ReplaceAll(args, "|-", " -")
	for _, r := range []string{"[", "]", "(", ")"} {
		args = strings.ReplaceAll(args, r, " ")
	}
	words := strings.Fields(args)
	out := map[string]string{}
	for i, w := range words {
		name, ok := strings.CutPrefix(w, "--")
		if !ok {
			if name, ok = strings.CutPrefix(w, "-"); !ok || len(name) != 1 {
				continue
			}
		}
		if name == "" {
			continue
		}
		value := ""
		if i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") && words[i+1] != "|" && words[i+1] != "..." {
			value = words[i+1]
			if !strings.HasSuffix(value, ",...") {
				value = strings.TrimSuffix(value, "...") // "--url URL...": repeatable
			}
			if strings.ContainsAny(value, ":/") {
				value = exampleValue // "127.0.0.1:PORT": an example
			}
		}
		if _, ok := out[name]; !ok { // the first mention: "--url URL [--url URL...]"
			out[name] = value
		}
	}
	return out
}

// placeholder is how a flag's value is shown: the usage's `name`, or its
// kind.
func placeholder(name string) string {
	switch name {
	case "string":
		return "TEXT"
	case "duration":
		return "DURATION"
	case "int", "uint", "int64", "uint64", "float":
		return "N"
	}
	return strings.ToUpper(name)
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// wrap breaks text into lines of at most width bytes at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		if n > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// newFlags makes a flag set that reports errors instead of exiting, and
// accepts flags after positional arguments (custos get ITEM --purpose X).
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags anywhere among the arguments and returns the
// positional ones. -h and --help print the command's help (exit 0). A
// flag left without its value or given an empty one, and an empty or
// blank positional argument, are usage errors: nothing is sent.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	given := args
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if current != nil {
					printHelp(helpOut, current, fs)
				}
				return nil, err
			}
			return nil, usageErr("%s: %s", fs.Name(), cliflags.Explain(fs, err))
		}
		args = fs.Args()
		if len(args) == 0 || args[0] == "--" {
			if len(args) > 0 {
				pos = append(pos, args[1:]...)
			}
			// A flag that took the next flag as its value, or was
			// given an empty one, is refused: every command alike.
			check := cliflags.Problem
			if current != nil && current.lastWins {
				check = cliflags.ProblemAllowingRepeats
			}
			if p := check(fs, given); p != "" {
				return nil, usageErr("%s", p)
			}
			// So is an empty argument: a request for "CASE//approve"
			// would reach no route of the vault, and a file named ""
			// no file.
			for i, a := range pos {
				if strings.TrimSpace(a) == "" {
					return nil, usageErr("%s: argument %d is empty: give it a value (in a script, is the variable set?)", fs.Name(), i+1)
				}
			}
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// given reports whether the flag name was set on the command line (after
// parse).
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
