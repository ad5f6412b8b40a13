package sqlite

// SetQuickCheckAtOpen sets the largest file New checks itself, for tests.
func SetQuickCheckAtOpen(n int64) (restore func()) {
	old := quickCheckAtOpen
	quickCheckAtOpen = n
	return func() { quickCheckAtOpen = old }
}

// SetCheckpointPage sets how many checkpoints a page of ReadCheckpoints
// holds, for tests.
func SetCheckpointPage(n int) (restore func()) {
	old := checkpointPage
	checkpointPage = n
	return func() { checkpointPage = old }
}

// CommitFailed is commitFailed, for the external tests.
var CommitFailed = commitFailed

// CheckpointWAL moves the write-ahead log's frames into the database
// file through the store's writer, on the file the store opened, for
// tests.
func (s *Store) CheckpointWAL() error {
	_, err := s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
