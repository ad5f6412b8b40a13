package pkgformat

import (
	"errors"
	"fmt"
	"github.com/custos-vault/custos/internal/printable"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// An extraction writes plaintexts into a private temporary folder inside
// the target folder (so on the same file system), under names any file
// system accepts, and moves them to their final names only when every
// check of the package has passed (docs/package-format.md, section 9).
type extraction struct {
	dir, tmp string
	files    []pending
	// made are the folders commit created for items' relative paths,
	// removed again if the extraction is undone.
	made []string
}

type pending struct {
	tmp string
	it  Item
}

func newExtraction(dir string) (*extraction, error) {
	tmp, err := os.MkdirTemp(dir, ".custos-verify-")
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("extract: %w", errors.Join(err, os.RemoveAll(tmp)))
	}
	return &extraction{dir: dir, tmp: tmp}, nil
}

// write stores the i-th item's plaintext in the temporary folder and
// checks it against the deposit.
func (e *extraction) write(i int, plain io.Reader, it Item) error {
	path := filepath.Join(e.tmp, strconv.Itoa(i))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("extracting %s: %w", it.Path, err)
	}
	err = rehash(f, plain, it)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	e.files = append(e.files, pending{tmp: path, it: it})
	return nil
}

// commit moves every plaintext to its final name. If one cannot be moved,
// those already moved are removed again, so that the target folder holds
// all of the package's plaintexts or none.
func (e *extraction) commit(rep *Report) error {
	// Each deposited name that is usable and the first of its kind is
	// placed first, so that no other item's numbered (~2) or archive
	// name takes it; the repeats and the unusable names after them.
	var order, later []int
	seen := map[string]bool{}
	for i, p := range e.files {
		if _, why := extractName(p.it.Name); why != "" || seen[p.it.Name] {
			later = append(later, i)
			continue
		}
		seen[p.it.Name] = true
		order = append(order, i)
	}
	placed := make([]Extracted, len(e.files))
	var done []Extracted
	for _, i := range append(order, later...) {
		p := e.files[i]
		x, err := e.place(p)
		if err != nil {
			for _, d := range done {
				if rerr := os.Remove(d.Path); rerr != nil {
					err = errors.Join(err, fmt.Errorf("extract: could not remove %s again: %w", d.Path, rerr))
				}
			}
			for i := len(e.made) - 1; i >= 0; i-- {
				os.Remove(e.made[i]) // only if empty
			}
			return err
		}
		done = append(done, x)
		placed[i] = x
	}
	// Make the new names durable where the OS allows it. Errors are not
	// failures: some systems (Windows) cannot open or sync a folder, and
	// each file was synced before it was moved.
	if d, err := os.Open(e.dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	rep.Extracted = placed
	return nil
}

// place moves one plaintext to the base of its deposited name, or to its
// archive name (without .age) when that name is unusable, taken, one that
// some common file system alters or treats as a device, or refused by
// this file system.
func (e *extraction) place(p pending) (Extracted, error) {
	archive := strings.TrimSuffix(filepath.Base(p.it.Path), ".age")
	x := Extracted{ID: p.it.ID, Name: p.it.Name}
	name, why := extractName(p.it.Name)
	made := len(e.made)
	if why == "" && filepath.Dir(name) != "." {
		if err := e.mkdirs(filepath.Dir(name)); err != nil {
			why = fmt.Sprintf("its folder could not be made (%v)", unwrapPathError(err))
		}
	}
	if why == "" {
		err := renameHook(p.tmp, filepath.Join(e.dir, name))
		// A name taken (the same file name from two exhibits, or an
		// item deposited twice): the name with ~2, ~3, ... before its
		// extension, in the same folder, so that it keeps its name's
		// letters and its folders.
		numbered := "" // why a numbered name was refused
		for n := 2; errors.Is(err, fs.ErrExist) && n <= len(e.files)+1; n++ {
			alt := numberedName(name, n)
			if err = renameHook(p.tmp, filepath.Join(e.dir, alt)); err == nil {
				x.Path = filepath.Join(e.dir, alt)
				x.Fallback = fmt.Sprintf("a file or folder of its name exists; extracted with ~%d", n)
				return x, nil
			}
			if nameRefused(err) {
				numbered = fmt.Sprintf("a file or folder of its name exists, and the file system refused it with ~%d (%v)", n, unwrapPathError(err))
			}
		}
		switch {
		case err == nil:
			x.Path = filepath.Join(e.dir, name)
			return x, nil
		case errors.Is(err, fs.ErrExist):
			why = "a file or folder of its name exists"
		case numbered != "":
			why = numbered
		case nameRefused(err):
			why = fmt.Sprintf("the file system refused the name (%v)", unwrapPathError(err))
		default:
			return x, fmt.Errorf("extracting %s: %w", p.it.Path, err)
		}
	}
	x.Fallback = why
	// The folders made for the name it did not get are not left empty.
	for i := len(e.made) - 1; i >= made; i-- {
		if os.Remove(e.made[i]) == nil {
			e.made = slices.Delete(e.made, i, i+1)
		}
	}
	// A deposited name may be any archive name, so the archive name may
	// be taken: then ~2, ~3, ... after it, the first that is free.
	for n := 1; ; n++ {
		as := archive
		if n > 1 {
			as = fmt.Sprintf("%s~%d", archive, n)
		}
		x.Path = filepath.Join(e.dir, as)
		err := renameHook(p.tmp, x.Path)
		switch {
		case err == nil:
			if n > 1 {
				x.Fallback += fmt.Sprintf("; its archive name %s was taken by another item's name", archive)
			}
			return x, nil
		case errors.Is(err, fs.ErrExist) && n <= len(e.files):
			continue
		}
		return x, fmt.Errorf("extracting %s as %s (%s): %w", p.it.Path, as, why, err)
	}
}

// numberedName is name with ~n before its extension: DCIM/a.jpg, 2 gives
// DCIM/a~2.jpg; a name whose only dot starts it (.profile) takes it at
// its end.
func numberedName(name string, n int) string {
	dir, base := filepath.Split(name)
	ext := filepath.Ext(base)
	if ext == base {
		ext = ""
	}
	return dir + strings.TrimSuffix(base, ext) + fmt.Sprintf("~%d", n) + ext
}

// mkdirs makes the folders of a relative path under the target folder,
// 0700, remembering each one it made.
func (e *extraction) mkdirs(rel string) error {
	path := e.dir
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		path = filepath.Join(path, part)
		err := os.Mkdir(path, 0o700)
		switch {
		case err == nil:
			e.made = append(e.made, path)
		case errors.Is(err, fs.ErrExist):
			if fi, serr := os.Lstat(path); serr != nil || !fi.IsDir() {
				return fmt.Errorf("%s exists and is not a folder", path)
			}
		default:
			return err
		}
	}
	return nil
}

// cleanup removes the temporary folder and whatever is left in it.
func (e *extraction) cleanup() error {
	if err := os.RemoveAll(e.tmp); err != nil {
		return fmt.Errorf("extract: could not remove the temporary folder %s: %w", e.tmp, err)
	}
	return nil
}

// renameHook moves a file without overwriting; tests replace it to
// simulate file systems that refuse names.
var renameHook = renameNoReplace

// renameNoReplace moves oldpath to newpath unless newpath exists (then the
// error wraps fs.ErrExist). A hard link makes the check and the move one
// step where the file system supports links; elsewhere (FAT, exFAT) the
// check and the rename are two steps.
func renameNoReplace(oldpath, newpath string) error {
	err := os.Link(oldpath, newpath)
	if err == nil {
		return os.Remove(oldpath)
	}
	if errors.Is(err, fs.ErrExist) || nameRefused(err) {
		return err
	}
	// No hard links here: check, then rename.
	if _, serr := os.Lstat(newpath); serr == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrExist}
	}
	return os.Rename(oldpath, newpath)
}

func unwrapPathError(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// extractName returns the base of a deposited name, or why it cannot be
// used. Names are refused here, before any file system sees them, when
// they are empty, "." or "..", not UTF-8, not in the one form the vault
// records (printable.Escape), hold a character a person would not see
// as itself (concealing), or are names that some common file
// system silently changes or opens as a device instead of refusing:
// Windows device names (CON, PRN, AUX, NUL, COM0-9, LPT0-9, with or
// without an extension) and names ending in a dot or a space. Names with
// characters FAT, exFAT or NTFS refuse (<>:"|?*\ and control characters)
// or longer than 255 bytes are tried, and fall back when refused.
func extractName(deposited string) (string, string) {
	if deposited == "" || strings.HasPrefix(deposited, "/") {
		return "", "the name is empty or absolute"
	}
	var parts []string
	for _, part := range strings.Split(deposited, "/") {
		switch {
		case part == "" || part == "." || part == "..":
			return "", "the name has an empty, . or .. path component"
		case !utf8.ValidString(part):
			return "", "the name is not valid UTF-8"
		case strings.HasSuffix(part, ".") || strings.HasSuffix(part, " "):
			return "", "a component ends in a dot or a space, which Windows file systems drop"
		case windowsDevice(part):
			return "", "the name is a Windows device name"
		}
		b, ok := printable.Unescape(part)
		raw := string(b)
		if !ok {
			return "", "the name has a backslash that is not a \\xHH escape"
		}
		if strings.ContainsRune(raw, filepath.Separator) || raw == "." || raw == ".." {
			return "", "an escaped byte is a path separator here"
		}
		if printable.Escape(b) != part {
			return "", "the name has escapes that spell characters shown as they are"
		}
		if concealing(raw) {
			return "", "the name holds a control or invisible character, or is blank (the manifest and report show it escaped)"
		}
		if windowsDevice(raw) {
			return "", "the name is a Windows device name"
		}
		parts = append(parts, raw)
	}
	return filepath.Join(parts...), ""
}

// concealing reports whether a name's bytes hold a character a person
// would not see there (printable.Conceals: a control, a separator, an
// override, a joiner out of place) or show as blank: the vault records
// such a name with those characters escaped, and a file named with them
// on the reader's disk could pass for another.
func concealing(raw string) bool {
	for i := range raw {
		if printable.Conceals(raw, i) {
			return true
		}
	}
	return printable.Blank(raw)
}

func windowsDevice(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		c := stem[3]
		return c >= '0' && c <= '9'
	}
	// COM¹²³ and LPT¹²³ are devices too.
	if r := []rune(stem); len(r) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		return r[3] == '¹' || r[3] == '²' || r[3] == '³'
	}
	return false
}
