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
	want := 0
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
					s.commit([]*request{{tick: true, done: make(chan result, 1)}})
				}
				timer.Reset(s.cfg.CheckpointInterval)
				continue
			case <-s.stop:
				s.drain()
				return
			}
		}
		batch, full := s.fill(batch, want)
		carry = s.commit(batch)
		// The callers just answered are likely to come back at once, as
		// are those who queued while the batch was written: the next
		// batch waits briefly for them all, unless the last wait found
		// fewer than it expected.
		if full {
			want = len(batch) + len(s.reqs)
		} else {
			want = len(batch)
		}
	}
}

// fill adds queued requests to batch until it holds want requests or
// MaxBatch events, lingering at most lingerMax for those not yet queued.
// full reports whether it reached want before the linger ended.
func (s *Sequencer) fill(batch []*request, want int) (_ []*request, full bool) {
	n := 0
	for _, r := range batch {
		n += len(r.drafts)
	}
	var linger *time.Timer
	for n < s.cfg.MaxBatch {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
			n += len(r.drafts)
			continue
		default:
		}
		if len(batch) >= want {
			return batch, true
		}
		if linger == nil {
			linger = time.NewTimer(lingerMax)
			defer linger.Stop()
		}
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
			n += len(r.drafts)
		case <-linger.C:
			return batch, false
		}
	}
	return batch, true
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
			if s.unstored() {
				s.commit([]*request{{force: true, done: make(chan result, 1)}})
			}
			return
		}
	}
}

// unstored reports whether events are not covered by a checkpoint in
// the log store (writer goroutine only, as stored is).
func (s *Sequencer) unstored() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.broken == nil && s.tree.Size() > s.stored
}

func (s *Sequencer) uncovered() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cp := s.latestCP
	return s.broken == nil && s.tree.Size() > 0 && (cp == nil || cp.Size < s.tree.Size())
}
