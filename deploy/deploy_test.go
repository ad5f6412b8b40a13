// Package deploy holds the production deployments of Custos (docker
// compose, Kubernetes, systemd). It has no Go code of its own: this test
// checks the deployment files against the code they configure, so that a
// renamed flag or environment variable breaks the build here rather than a
// vault in production.
package deploy

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"go.yaml.in/yaml/v3"
)

// sentinel is given as --listen (server) or --identity (admin recover): an
// error naming it proves that the flags and the config file before it
// were all accepted.
const sentinel = "deploy-test-sentinel"

// placeholder stands for values the deployment interpolates at run time.
const placeholder = "age1deploytestplaceholder"

// stdlibEnv are variables read by the Go runtime and standard library
// rather than by Custos's own code; deployments may set them for custos.
var stdlibEnv = map[string]string{
	"SSL_CERT_FILE": "crypto/x509: the CA roots (our CA, for MinIO's certificate)",
	"SSL_CERT_DIR":  "crypto/x509: folders of CA roots",
	"GOMEMLIMIT":    "runtime: soft memory limit",
	"GOMAXPROCS":    "runtime: CPUs used",
	"GODEBUG":       "runtime and standard library settings",
	"GOTRACEBACK":   "runtime: crash output",
	"TZ":            "time: local zone",
}

// invocation is one way a deployment starts `custos server`.
type invocation struct {
	where string
	args  []string          // after the binary: "server", flags...
	env   map[string]string // variables set for the custos process
	// expanded are variables the platform substitutes into args
	// (Kubernetes $(VAR)); they need not be read by custos itself.
	expanded map[string]bool
	// conf is the content behind --config, if any.
	conf     string
	confFrom string
}

// --- what the code accepts ---------------------------------------------

var flagCall = regexp.MustCompile(`fs\.(?:Bool|String|Duration|Int|Int64|Uint|Uint64|Float64|Func|Var|TextVar)(?:Var)?\((?:&?[\w.\[\]{}&]+,\s*)?"([a-z0-9][a-z0-9-]*)"`)

// serverFlags parses cmd/custos/server.go, identity_flags.go and
// hotline_flags.go for the
// flags `custos server` registers.
func serverFlags(t *testing.T) map[string]bool {
	t.Helper()
	var src []byte
	for _, f := range []string{"../cmd/custos/server.go", "../cmd/custos/identity_flags.go", "../cmd/custos/hotline_flags.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	flags := map[string]bool{}
	for _, m := range flagCall.FindAllStringSubmatch(string(src), -1) {
		flags[m[1]] = true
	}
	for _, want := range []string{"data", "log", "objects", "sealer", "recovery-recipient", "config", "listen", "tls-cert", "tls-key"} {
		if !flags[want] {
			t.Fatalf("server.go: no flag %q found; found %v (has the flag been renamed, or does the pattern here miss a new registration style?)", want, keys(flags))
		}
	}
	return flags
}

var getenvCall = regexp.MustCompile(`[gG]etenv\("([A-Z][A-Z0-9_]*)"\)`)

// codeEnv returns the environment variables that the packages linked into
// cmd/custos read, by their literal names in the non-test Go files of
// this module.
func codeEnv(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .GoFiles}}|{{.}}{{end}}{{end}}{{end}}", "../cmd/custos").Output()
	if err != nil {
		t.Fatalf("go list: %v", errText(err))
	}
	vars := map[string]bool{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		if len(parts) < 2 {
			continue
		}
		for _, f := range parts[1:] {
			b, err := os.ReadFile(filepath.Join(parts[0], f))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range getenvCall.FindAllStringSubmatch(string(b), -1) {
				vars[m[1]] = true
			}
		}
	}
	for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "VAULT_TOKEN"} {
		if !vars[want] {
			t.Fatalf("no Getenv(%q) found in the code linked into cmd/custos; found %v", want, keys(vars))
		}
	}
	return vars
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// custosBinary builds cmd/custos once per test binary.
func custosBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "custos-deploy-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "custos")
		cmd := exec.Command("go", "build", "-o", binPath, "../cmd/custos")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/custos: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// --- what the deployments say ------------------------------------------

func loadYAMLDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs
}

func TestEveryYAMLFileLoads(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "secrets" {
			return filepath.SkipDir // generated by setup.sh, not ours
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("only %d YAML files found: %v", len(files), files)
	}
	for _, f := range files {
		docs := loadYAMLDocs(t, f)
		if len(docs) == 0 {
			t.Errorf("%s: no YAML document", f)
		}
		if strings.HasPrefix(f, "kubernetes/") && f != "kubernetes/kustomization.yaml" {
			for i, d := range docs {
				if d["apiVersion"] == nil || d["kind"] == nil || dig(d, "metadata", "name") == nil {
					t.Errorf("%s: document %d lacks apiVersion, kind or metadata.name", f, i+1)
				}
			}
		}
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	docs := loadYAMLDocs(t, "kubernetes/kustomization.yaml")
	listed := map[string]bool{}
	for _, r := range asList(docs[0]["resources"]) {
		name, _ := r.(string)
		if _, err := os.Stat(filepath.Join("kubernetes", name)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", name, err)
		}
		listed[name] = true
	}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		base := filepath.Base(f)
		if base == "kustomization.yaml" || strings.HasSuffix(base, ".example.yaml") {
			continue
		}
		if !listed[base] {
			t.Errorf("kubernetes/%s is not listed in kustomization.yaml", base)
		}
	}
}

func composeInvocation(t *testing.T) invocation {
	t.Helper()
	doc := loadYAMLDocs(t, "compose/compose.yaml")[0]
	svc, ok := dig(doc, "services", "custos").(map[string]any)
	if !ok {
		t.Fatal("compose.yaml: no service custos")
	}
	if svc["entrypoint"] != nil {
		t.Error("compose.yaml: custos overrides the entrypoint; docker-entrypoint.sh must run to read the *_FILE secrets")
	}
	inv := invocation{where: "compose/compose.yaml", env: map[string]string{}, expanded: map[string]bool{}}
	for _, a := range asList(svc["command"]) {
		inv.args = append(inv.args, fmt.Sprint(a))
	}
	switch env := svc["environment"].(type) {
	case map[string]any:
		for k, v := range env {
			inv.env[k] = fmt.Sprint(v)
		}
	case []any:
		for _, kv := range env {
			k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
			inv.env[k] = v
		}
	}
	conf, err := os.ReadFile("compose/custos.conf.in")
	if err != nil {
		t.Fatal(err)
	}
	inv.conf = strings.ReplaceAll(string(conf), "{{KURRENTDB_CUSTOS_PASSWORD}}", "pw0123456789")
	inv.confFrom = "compose/custos.conf.in"
	return inv
}

func kubernetesInvocation(t *testing.T) invocation {
	t.Helper()
	inv := invocation{where: "kubernetes/custos.yaml", env: map[string]string{}, expanded: map[string]bool{}}
	var found bool
	for _, d := range loadYAMLDocs(t, "kubernetes/custos.yaml") {
		if d["kind"] != "Deployment" || dig(d, "metadata", "name") != "custos" {
			continue
		}
		if r := dig(d, "spec", "replicas"); r != 1 {
			t.Errorf("kubernetes/custos.yaml: the Deployment has %v replicas; the log has one writer, so it must be 1", r)
		}
		if s := dig(d, "spec", "strategy", "type"); s != "Recreate" {
			t.Errorf("kubernetes/custos.yaml: strategy %v; Recreate keeps two writers from overlapping during an upgrade", s)
		}
		for _, c := range asList(dig(d, "spec", "template", "spec", "containers")) {
			cm, _ := c.(map[string]any)
			if cm["name"] != "custos" {
				continue
			}
			found = true
			if cm["command"] != nil {
				t.Error("kubernetes/custos.yaml: command overrides the image's entrypoint")
			}
			for _, a := range asList(cm["args"]) {
				inv.args = append(inv.args, fmt.Sprint(a))
			}
			for _, e := range asList(cm["env"]) {
				em, _ := e.(map[string]any)
				inv.env[fmt.Sprint(em["name"])] = fmt.Sprint(em["value"])
			}
		}
	}
	if !found {
		t.Fatal("kubernetes/custos.yaml: no Deployment custos with a container custos")
	}
	for _, a := range inv.args {
		for _, m := range regexp.MustCompile(`\$\(([A-Z0-9_]+)\)`).FindAllStringSubmatch(a, -1) {
			inv.expanded[m[1]] = true
		}
	}
	for _, d := range loadYAMLDocs(t, "kubernetes/secrets.example.yaml") {
		if dig(d, "metadata", "name") == "custos-config" {
			inv.conf, _ = dig(d, "stringData", "custos.conf").(string)
			inv.confFrom = "kubernetes/secrets.example.yaml (custos-config)"
		}
	}
	if inv.conf == "" {
		t.Fatal("kubernetes/secrets.example.yaml: no custos-config with custos.conf")
	}
	return inv
}

func systemdInvocation(t *testing.T) invocation {
	t.Helper()
	inv := invocation{where: "systemd/custos.service", env: map[string]string{}, expanded: map[string]bool{}}
	f, err := os.Open("systemd/custos.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		switch k {
		case "ExecStart":
			fields := strings.Fields(v)
			if len(fields) == 0 || filepath.Base(fields[0]) != "custos" {
				t.Fatalf("custos.service: ExecStart does not run custos: %s", v)
			}
			inv.args = fields[1:]
		case "Environment":
			for _, kv := range strings.Fields(v) {
				name, val, _ := strings.Cut(strings.Trim(kv, `"`), "=")
				inv.env[name] = val
			}
		case "EnvironmentFile":
			if strings.TrimPrefix(v, "-") != "/etc/custos/custos.env" {
				t.Errorf("custos.service: EnvironmentFile %s is not the one custos.env.example documents", v)
			}
			for name, val := range envFile(t, "systemd/custos.env.example") {
				inv.env[name] = val
			}
		}
	}
	conf, err := os.ReadFile("systemd/custos.conf")
	if err != nil {
		t.Fatal(err)
	}
	inv.conf, inv.confFrom = string(conf), "systemd/custos.conf"
	return inv
}

func allInvocations(t *testing.T) []invocation {
	return []invocation{composeInvocation(t), kubernetesInvocation(t), systemdInvocation(t)}
}

// --- the checks -----------------------------------------------------------

// flagsOf splits args into flag names and values (--name=value or --name
// value; bool flags take no separate value).
func flagsOf(t *testing.T, where string, args []string, known map[string]bool) map[string]string {
	t.Helper()
	bools := map[string]bool{"dev": true, "create-kek": true}
	out := map[string]string{}
	if len(args) == 0 || args[0] != "server" {
		t.Errorf("%s: custos is not started with the verb server: %q", where, args)
		return out
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			t.Errorf("%s: argument %q is not a flag (server takes no arguments)", where, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !known[name] {
			t.Errorf("%s: flag --%s is not a flag of custos server (cmd/custos/server.go has: %s)", where, name, strings.Join(keys(known), ", "))
		}
		if !hasVal && !bools[name] && i+1 < len(args) {
			i++
			val = args[i]
		}
		out[name] = val
	}
	return out
}

// confLines parses `flag = value` lines as loadConfig does.
func confLines(t *testing.T, where, conf string, known map[string]bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for n, line := range strings.Split(conf, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || !known[name] || name == "config" {
			t.Errorf("%s line %d: %q is not `flag = value` with a flag of custos server", where, n+1, line)
			continue
		}
		out[name] = strings.TrimSpace(val)
	}
	return out
}

func TestFlagsAreFlagsOfCustosServer(t *testing.T) {
	known := serverFlags(t)
	for _, inv := range allInvocations(t) {
		flags := flagsOf(t, inv.where, inv.args, known)
		conf := confLines(t, inv.confFrom, inv.conf, known)
		if _, ok := flags["config"]; !ok {
			t.Errorf("%s: no --config, but %s is meant for it", inv.where, inv.confFrom)
		}
		for name := range conf {
			if _, ok := flags[name]; ok {
				t.Errorf("%s: --%s is both on the command line and in %s (the command line wins silently)", inv.where, name, inv.confFrom)
			}
		}
		// The effective settings: every deployment names all backends
		// and the recovery recipient, and serves TLS off loopback.
		eff := map[string]string{}
		for k, v := range conf {
			eff[k] = v
		}
		for k, v := range flags {
			eff[k] = v
		}
		for _, need := range []string{"data", "log", "objects", "sealer", "recovery-recipient", "listen", "tls-cert", "tls-key"} {
			if eff[need] == "" {
				t.Errorf("%s: --%s is not set", inv.where, need)
			}
		}
		if _, dev := eff["dev"]; dev {
			t.Errorf("%s: --dev in a production deployment", inv.where)
		}
		checkURLs(t, inv.where, eff)
	}
}

var (
	logForms    = regexp.MustCompile(`^(sqlite:/.+|(esdb|kurrentdb)(\+discover)?://.+|postgres(ql)?://.+)$`)
	objectForms = regexp.MustCompile(`^(fs:/.+|s3://[^/:@]+:\d+/[a-z0-9][a-z0-9.-]+|s3\+http://(127\.0\.0\.1|localhost|\[::1\]):\d+/[a-z0-9][a-z0-9.-]+)$`)
	sealerForms = regexp.MustCompile(`^(tpm:/dev/\S+|tpm\+tcp://\S+|pkcs11:\S+|transit://[^/:@]+:\d+/\S+)$`)
)

// checkURLs checks the backend URLs against the forms the backends accept
// off loopback (docs/objects.md, docs/keys.md, the --log help text).
func checkURLs(t *testing.T, where string, eff map[string]string) {
	t.Helper()
	for _, c := range []struct {
		flag string
		re   *regexp.Regexp
	}{{"log", logForms}, {"objects", objectForms}, {"sealer", sealerForms}} {
		v := eff[c.flag]
		if strings.Contains(v, "$(") || strings.Contains(v, "${") {
			continue
		}
		if !c.re.MatchString(v) {
			t.Errorf("%s: --%s %q is not an accepted production form", where, c.flag, v)
		}
	}
}

func TestEnvironmentIsReadByCustos(t *testing.T) {
	read := codeEnv(t)
	fileVars := entrypointFileVars(t)
	for _, v := range fileVars {
		if !read[v] {
			t.Errorf("docker-entrypoint.sh handles %s_FILE, but custos does not read %s", v, v)
		}
	}
	for _, inv := range allInvocations(t) {
		set := map[string]bool{}
		for name := range inv.env {
			base, isFile := strings.CutSuffix(name, "_FILE")
			switch {
			case read[name], stdlibEnv[name] != "", inv.expanded[name]:
			case isFile && slices.Contains(fileVars, base) && inv.where != "systemd/custos.service":
				name = base
			default:
				t.Errorf("%s: sets %s for custos, which neither custos nor the Go runtime reads (custos reads %s)", inv.where, name, strings.Join(keys(read), ", "))
			}
			set[name] = true
		}
		flags := flagsOf(t, inv.where, inv.args, serverFlags(t))
		conf := confLines(t, inv.confFrom, inv.conf, serverFlags(t))
		objects, sealer := flags["objects"]+conf["objects"], flags["sealer"]+conf["sealer"]
		if strings.HasPrefix(objects, "s3") {
			for _, need := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
				if !set[need] {
					t.Errorf("%s: an s3 object store needs %s, which is not set", inv.where, need)
				}
			}
		}
		if strings.HasPrefix(sealer, "transit") {
			for _, need := range []string{"VAULT_TOKEN", "VAULT_CACERT"} {
				if !set[need] {
					t.Errorf("%s: the Transit sealer needs %s, which is not set", inv.where, need)
				}
			}
		}
	}
}

// entrypointFileVars returns the NAMEs for which docker-entrypoint.sh
// turns NAME_FILE into NAME.
func entrypointFileVars(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("docker-entrypoint.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^for name in ([A-Z0-9_ ]+); do`).FindSubmatch(b)
	if m == nil {
		t.Fatal("docker-entrypoint.sh: no `for name in ...; do` loop found")
	}
	return strings.Fields(string(m[1]))
}

// TestCustosBinaryAcceptsTheDeployments runs the built binary on each
// deployment's arguments and config file, with --listen (or, for admin
// recover, --identity) replaced by a sentinel that fails only after every
// flag and config line has been parsed and the backend flags are found
// complete. Nothing is opened or created.
func TestCustosBinaryAcceptsTheDeployments(t *testing.T) {
	bin := custosBinary(t)
	dir := t.TempDir()
	for i, inv := range allInvocations(t) {
		confPath := filepath.Join(dir, fmt.Sprintf("custos-%d.conf", i))
		if err := os.WriteFile(confPath, []byte(inv.conf), 0o600); err != nil {
			t.Fatal(err)
		}
		args := substitute(inv.args, dir)
		for j := 0; j < len(args); j++ {
			switch {
			case strings.HasPrefix(args[j], "--config="):
				args[j] = "--config=" + confPath
			case args[j] == "--config" && j+1 < len(args):
				args[j+1] = confPath
			}
		}
		args = append(args, "--listen="+sentinel)
		out := runCustos(t, bin, args...)
		if !strings.Contains(out, `--listen "`+sentinel+`"`) {
			t.Errorf("%s: custos %s\nwas refused before --listen:\n%s", inv.where, strings.Join(inv.args, " "), out)
		}
	}
	sys := systemdInvocation(t)
	confPath := filepath.Join(dir, "one-server.conf")
	if err := os.WriteFile(confPath, []byte(sys.conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runCustos(t, bin, "admin", "recover", "--config", confPath, "--identity", filepath.Join(dir, "absent", sentinel))
	if !strings.Contains(out, sentinel) {
		t.Errorf("%s: custos admin recover --config refused it:\n%s", sys.confFrom, out)
	}
	// The probe itself must be able to fail.
	out = runCustos(t, bin, "server", "--data", dir, "--no-such-flag", "x", "--listen="+sentinel)
	if strings.Contains(out, sentinel) || !strings.Contains(out, "no-such-flag") {
		t.Errorf("an unknown flag was not refused first:\n%s", out)
	}
}

func runCustos(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("custos %s: succeeded; the probe expects a failure at the sentinel", strings.Join(args, " "))
	}
	return string(out)
}

var (
	composeVar = regexp.MustCompile(`\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}`)
	kubeVar    = regexp.MustCompile(`\$\([A-Z0-9_]+\)`)
)

// substitute replaces what compose, the kubelet and systemd fill in at
// run time.
func substitute(args []string, credDir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		a = composeVar.ReplaceAllString(a, placeholder)
		a = kubeVar.ReplaceAllString(a, placeholder)
		a = strings.ReplaceAll(a, "%d", credDir)
		out[i] = a
	}
	return out
}

// TestLogConnectionStrings parses every esdb/kurrentdb --log value with the
// KurrentDB client, as the server would, with the CA file it names
// replaced by a real one.
func TestLogConnectionStrings(t *testing.T) {
	ca := writeTestCA(t)
	n := 0
	for _, inv := range allInvocations(t) {
		log := confLines(t, inv.confFrom, inv.conf, serverFlags(t))["log"]
		if log == "" {
			log = flagsOf(t, inv.where, inv.args, serverFlags(t))["log"]
		}
		scheme, rest, ok := strings.Cut(log, "://")
		if !ok || !strings.Contains(scheme, "esdb") && !strings.Contains(scheme, "kurrentdb") {
			continue
		}
		n++
		scheme = strings.Replace(scheme, "kurrentdb", "esdb", 1)
		hosts, query, _ := strings.Cut(rest, "?")
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Errorf("%s: --log parameters: %v", inv.confFrom, err)
			continue
		}
		if q.Get("tls") == "false" {
			t.Errorf("%s: the custody log is reached without TLS", inv.confFrom)
		}
		if q.Get("tlsCAFile") != "" {
			q.Set("tlsCAFile", ca)
		}
		q.Del("stream")
		cfg, err := esdb.ParseConnectionString(scheme + "://" + hosts + "?" + q.Encode())
		if err != nil {
			t.Errorf("%s: --log %q: %v", inv.confFrom, log, err)
			continue
		}
		if cfg.DisableTLS || cfg.Username == "" || len(cfg.GossipSeeds) != 3 {
			t.Errorf("%s: --log: TLS off (%v), no user (%q) or not the 3 cluster nodes (%d seeds)", inv.confFrom, cfg.DisableTLS, cfg.Username, len(cfg.GossipSeeds))
		}
	}
	if n != 2 {
		t.Errorf("%d KurrentDB connection strings found; want the compose and the Kubernetes one", n)
	}
}

// TestCertificatesCoverTheHostNames runs certs/gen-certs.sh for both
// profiles and checks that the hosts the custos flags name are covered by
// a certificate of that CA, and that the KurrentDB certificates carry the
// reserved node name the nodes are configured with.
func TestCertificatesCoverTheHostNames(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed: certs/gen-certs.sh not checked")
	}
	for _, c := range []struct {
		profile string
		inv     invocation
		extra   []string
	}{
		{"compose", composeInvocation(t), []string{"custos", "minio1", "minio4"}},
		{"kubernetes", kubernetesInvocation(t), []string{"custos.custos.svc", "minio-3.minio-hl.custos.svc.cluster.local"}},
	} {
		out := filepath.Join(t.TempDir(), "tls")
		cmd := exec.Command("./certs/gen-certs.sh", c.profile, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gen-certs.sh %s: %v\n%s", c.profile, err, b)
		}
		pool := x509.NewCertPool()
		caPEM, err := os.ReadFile(filepath.Join(out, "ca", "ca.crt"))
		if err != nil || !pool.AppendCertsFromPEM(caPEM) {
			t.Fatalf("%s: no CA certificate: %v", c.profile, err)
		}
		certs := map[string]*x509.Certificate{}
		paths, _ := filepath.Glob(filepath.Join(out, "*", "tls.crt"))
		for _, p := range paths {
			b, _ := os.ReadFile(p)
			blk, _ := pem.Decode(b)
			if blk == nil {
				t.Fatalf("%s: not PEM", p)
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			certs[filepath.Base(filepath.Dir(p))] = cert
		}
		eff := confLines(t, c.inv.confFrom, c.inv.conf, serverFlags(t))
		for k, v := range flagsOf(t, c.inv.where, c.inv.args, serverFlags(t)) {
			eff[k] = v
		}
		hosts := slices.Clone(c.extra)
		if u, err := url.Parse(eff["objects"]); err == nil {
			hosts = append(hosts, u.Hostname())
		}
		if u, err := url.Parse(eff["sealer"]); err == nil && !strings.HasSuffix(u.Hostname(), ".example.org") {
			hosts = append(hosts, u.Hostname())
		}
		_, rest, _ := strings.Cut(eff["log"], "@")
		seeds, _, _ := strings.Cut(rest, "?")
		for s := range strings.SplitSeq(seeds, ",") {
			h, _, _ := strings.Cut(s, ":")
			hosts = append(hosts, h)
		}
		for _, h := range hosts {
			ok := false
			for _, cert := range certs {
				if _, err := cert.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: time.Now()}); err == nil {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: no certificate from gen-certs.sh verifies for %s", c.profile, h)
			}
		}
		for name, cert := range certs {
			if strings.HasPrefix(name, "kurrentdb") {
				if cert.Subject.CommonName != "kurrentdb-node" {
					t.Errorf("%s/%s: CN %q, want the reserved node name kurrentdb-node", c.profile, name, cert.Subject.CommonName)
				}
				if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
					t.Errorf("%s/%s: no clientAuth; nodes authenticate each other with it", c.profile, name)
				}
			}
		}
	}
	if b, _ := os.ReadFile("compose/compose.yaml"); !strings.Contains(string(b), "KURRENTDB_CERTIFICATE_RESERVED_NODE_COMMON_NAME: kurrentdb-node") {
		t.Error("compose.yaml: the reserved node name differs from the certificates' CN")
	}
	if b, _ := os.ReadFile("kubernetes/kurrentdb.yaml"); !strings.Contains(string(b), "KURRENTDB_CERTIFICATE_RESERVED_NODE_COMMON_NAME, value: kurrentdb-node") {
		t.Error("kubernetes/kurrentdb.yaml: the reserved node name differs from the certificates' CN")
	}
}

// TestMinIOSetupInSync: the Kubernetes ConfigMap carries copies of the
// MinIO set-up script and policy (kustomize cannot load files from
// outside its folder); they must not drift.
func TestMinIOSetupInSync(t *testing.T) {
	for _, d := range loadYAMLDocs(t, "kubernetes/minio.yaml") {
		if d["kind"] != "ConfigMap" || dig(d, "metadata", "name") != "minio-setup" {
			continue
		}
		for _, key := range []string{"setup-bucket.sh", "custos-policy.json"} {
			want, err := os.ReadFile(filepath.Join("minio", key))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := dig(d, "data", key).(string); got != string(want) {
				t.Errorf("kubernetes/minio.yaml ConfigMap minio-setup: %s differs from minio/%s", key, key)
			}
		}
		return
	}
	t.Error("kubernetes/minio.yaml: no ConfigMap minio-setup")
}

// TestSystemdUnit runs systemd-analyze verify on the unit (pointed at the
// built binary) where systemd is installed.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("systemd/custos.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"LimitCORE=0", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/custos", "PrivateTmp=yes", "DeviceAllow=/dev/tpmrm0", "MemoryDenyWriteExecute=yes"} {
		if !strings.Contains(string(unit), "\n"+want) {
			t.Errorf("custos.service: %s is missing", want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed: the unit's syntax is not checked")
	}
	bin := custosBinary(t)
	path := filepath.Join(t.TempDir(), "custos.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/custos"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	for _, bad := range []string{"Unknown key", "Unknown section", "Failed to parse", "Invalid", "is not executable", "bad-setting"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("systemd-analyze verify custos.service:\n%s", out)
			break
		}
	}
}

// TestComposeConfig asks docker compose itself, where it can run.
func TestComposeConfig(t *testing.T) {
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Skip("docker compose is not available here (no compose plugin or no engine): compose.yaml is checked only by this package's own parsing")
	}
	cmd := exec.Command("docker", "compose", "-f", "compose/compose.yaml", "config", "--quiet", "--no-path-resolution")
	cmd.Env = append(os.Environ(), "CUSTOS_RECOVERY_RECIPIENT="+placeholder, "KURRENTDB_ADMIN_PASSWORD=x", "KURRENTDB_OPS_PASSWORD=x")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("docker compose config: %v\n%s", err, out)
	}
}

// --- small helpers -------------------------------------------------------

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[k] = v
	}
	return out
}

func errText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return err.Error() + ": " + string(ee.Stderr)
	}
	return err.Error()
}

// writeTestCA writes a throwaway self-signed CA certificate, for client
// code that loads the CA file a connection string names.
func writeTestCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deploy test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFirstCustodiansCommands: the compose guide's and the Kubernetes
// Job's enrolment of the first custodians give admin enroll the custos
// service's own flags (each with the service's value), leave out the
// listener and TLS (flags of the server only, which admin enroll refuses
// on its command line), and the built binary takes them: it fails only
// on reaching the services, never on a flag (exit 2). The Job mounts and
// sets what the Deployment does.
func TestFirstCustodiansCommands(t *testing.T) {
	b, err := os.ReadFile("compose/README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)docker compose run --rm --no-deps custos admin enroll (.*?)\n   ```").FindSubmatch(b)
	if block == nil {
		t.Fatal("compose/README.md gives no docker compose run ... admin enroll command")
	}
	checkEnrolment(t, "compose/README.md", strings.Fields(strings.ReplaceAll(string(block[1]), "\\\n", " ")), composeInvocation(t), `"$CUSTOS_RECOVERY_RECIPIENT"`)

	var job map[string]any
	for _, d := range loadYAMLDocs(t, "kubernetes/enroll-custodian.example.yaml") {
		if d["kind"] == "Job" {
			job = d
		}
	}
	if job == nil {
		t.Fatal("kubernetes/enroll-custodian.example.yaml: no Job")
	}
	containers := asList(dig(job, "spec", "template", "spec", "containers"))
	if len(containers) != 1 {
		t.Fatalf("kubernetes/enroll-custodian.example.yaml: %d containers", len(containers))
	}
	c, _ := containers[0].(map[string]any)
	var args []string
	for _, a := range asList(c["args"]) {
		args = append(args, fmt.Sprint(a))
	}
	if len(args) < 2 || args[0] != "admin" || args[1] != "enroll" {
		t.Fatalf("the Job runs %v, not admin enroll", args)
	}
	inv := kubernetesInvocation(t)
	checkEnrolment(t, "kubernetes/enroll-custodian.example.yaml", args[2:], inv, "$(CUSTOS_RECOVERY_RECIPIENT)")
	// What the server's container has, the Job's has: the same secrets,
	// settings and volumes.
	var deployment map[string]any
	for _, d := range loadYAMLDocs(t, "kubernetes/custos.yaml") {
		if d["kind"] == "Deployment" {
			deployment = d
		}
	}
	server, _ := asList(dig(deployment, "spec", "template", "spec", "containers"))[0].(map[string]any)
	for _, part := range []string{"env", "volumeMounts"} {
		if want, got := fmt.Sprint(server[part]), fmt.Sprint(c[part]); want != got {
			t.Errorf("the Job's %s differ from the Deployment's:\n%s\n%s", part, got, want)
		}
	}
	if want, got := fmt.Sprint(dig(deployment, "spec", "template", "spec", "volumes")), fmt.Sprint(dig(job, "spec", "template", "spec", "volumes")); want != got {
		t.Errorf("the Job's volumes differ from the Deployment's:\n%s\n%s", got, want)
	}
}

// checkEnrolment checks an admin enroll command's arguments (args,
// from where) against the server invocation inv: the flags are the
// server's, with its values (recipient: the recovery recipient as the
// enrolment writes it), without --listen or TLS; and the built binary
// takes them.
func checkEnrolment(t *testing.T, where string, args []string, inv invocation, recipient string) {
	t.Helper()
	service := map[string]string{}
	for _, a := range inv.args {
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
			service[k] = v
		}
	}
	var flags []string
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(k, "--") || k == "--role" {
			continue
		}
		switch {
		case k == "--listen" || strings.HasPrefix(k, "--tls-"):
			t.Errorf("%s: the enrolment gives %s, a flag of the server only", where, k)
		case service[k] == "":
			t.Errorf("%s: the enrolment gives %s, which the server's command does not", where, k)
		case k == "--recovery-recipient":
			if v != recipient {
				t.Errorf("%s: --recovery-recipient=%s, not %s", where, v, recipient)
			}
		case v != service[k]:
			t.Errorf("%s: the enrolment gives %s=%s, the server %s", where, k, v, service[k])
		}
		flags = append(flags, k)
	}
	for _, k := range []string{"--config", "--data", "--objects", "--sealer", "--recovery-recipient"} {
		if !slices.Contains(flags, k) {
			t.Errorf("%s: the enrolment does not give %s", where, k)
		}
	}
	bin := custosBinary(t)
	dir := t.TempDir()
	confPath := filepath.Join(dir, "custos.conf")
	if err := os.WriteFile(confPath, []byte(inv.conf), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	var run []string
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--config="):
			a = "--config=" + confPath
		case strings.HasPrefix(a, "--data="):
			a = "--data=" + data
		case strings.HasPrefix(a, "--recovery-recipient="):
			a = "--recovery-recipient=age1qmc082n9ma9kdejp033xk3u3jeuucts30ca03ysptuvp43ev4elq49rxk6"
		}
		run = append(run, a)
	}
	cmd := exec.Command(bin, append([]string{"admin", "enroll"}, run...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "VAULT_TOKEN=x"}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 2 || strings.Contains(string(out), "not a flag") {
		t.Errorf("%s: custos admin enroll %s: %v\n%s", where, strings.Join(run, " "), err, out)
	}
}
