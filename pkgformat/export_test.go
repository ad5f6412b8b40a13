package pkgformat

// SetRenameHook replaces the no-overwrite rename that extraction uses, to
// simulate file systems that refuse some names; it returns the restore.
func SetRenameHook(f func(oldpath, newpath string) error) (restore func()) {
	old := renameHook
	renameHook = f
	return func() { renameHook = old }
}

// RenameNoReplace is the real rename, for hooks that wrap it.
var RenameNoReplace = renameNoReplace
