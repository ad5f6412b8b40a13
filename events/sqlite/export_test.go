package sqlite

// SetQuickCheckAtOpen sets the largest file New checks itself, for tests.
func SetQuickCheckAtOpen(n int64) (restore func()) {
	old := quickCheckAtOpen
	quickCheckAtOpen = n
	return func() { quickCheckAtOpen = old }
}
