package sequencer

import (
	"time"
)

// run is the writer goroutine. It gathers requests into batches (group
// commit) and hands each batch to commit. Requests whose precondition
// waits for events of the batch before them come back as carry and open
// the next batch, ahead of anything newly queued.
func (s *Sequencer) run() {
	defer close(s.stopped)
	defer s.stopTiles() // before stopped: Close returns with the tiles written
	defer s.stopHeads() // and with every anchored request answered
	timer := time.NewTimer(s.cfg.CheckpointInterval)
	defer timer.Stop()
	lastBatch := 0
	var carry []*request
	for {
		var batch []*request
		if len(carry) > 0 {
			batch, carry = carry, nil
		} else {
			select {
			case first := <-s.reqs:
				batch = []*request{first}
			case <-timer.C:
				if s.uncovered() {
					s.commit([]*request{{force: true, done: make(chan result, 1)}})
				}
				timer.Reset(s.cfg.CheckpointInterval)
				continue
			case <-s.stop:
				s.drain()
				return
			}
		}
		batch = s.fill(batch, lastBatch)
		lastBatch = len(batch)
		carry = s.commit(batch)
	}
}

// fill adds already queued requests to batch. If the previous batch was
// bigger, its callers are probably re-submitting right now; it lingers
// briefly for them rather than commit a small batch and make them wait a
// whole fsync.
func (s *Sequencer) fill(batch []*request, lastBatch int) []*request {
	n := 0
	for _, r := range batch {
		n += len(r.drafts)
	}
	linger := time.NewTimer(lingerMax)
	defer linger.Stop()
	for n < s.cfg.MaxBatch {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
			n += len(r.drafts)
			continue
		default:
		}
		if len(batch) >= lastBatch/2 {
			return batch
		}
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
			n += len(r.drafts)
		case <-linger.C:
			return batch
		}
	}
	return batch
}

// drain answers requests still queued at Close, then covers the tail.
func (s *Sequencer) drain() {
	var carry []*request
	for {
		if len(carry) > 0 {
			carry = s.commit(carry)
			continue
		}
		select {
		case r := <-s.reqs:
			carry = s.commit([]*request{r})
		default:
			if s.uncovered() {
				s.commit([]*request{{force: true, done: make(chan result, 1)}})
			}
			return
		}
	}
}

func (s *Sequencer) uncovered() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cp := s.latestCP
	return s.broken == nil && s.tree.Size() > 0 && (cp == nil || cp.Size < s.tree.Size())
}
