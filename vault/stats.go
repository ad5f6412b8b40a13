package vault

import (
	"context"
	"slices"
	"time"
)

// Statistics of hotline work, as INHOPE members publish them, derived
// from the custody events (known items also from the hash sets in use;
// docs/hotline.md section 7 says how each figure is counted).

// Stats are the figures of a period [From, To).
type Stats struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// LogSize is the number of custody events the figures were computed
	// from: the log's prefix an auditor recomputes them against.
	LogSize uint64 `json:"log_size"`
	// Reports: received in the period, by channel; relevant (actioned:
	// a notice sent or the report forwarded, at any time); closed in the
	// period by reason.
	Reports ReportStats `json:"reports"`
	// Items deposited in the period: matched a hash set, known (hidden
	// from review), new (neither matched nor identical to an earlier
	// item).
	Items ItemStats `json:"items"`
	// ByCategory counts the period's items by settled category now
	// ("unclassified" and "disputed" included).
	ByCategory map[string]int `json:"by_category"`
	// MatchesByHashSet counts the period's items matching each set.
	MatchesByHashSet map[string]int `json:"matches_by_hashset"`
	// Notices sent in the period, and the takedowns of those notices.
	Notices NoticeStats `json:"notices"`
	// Forwarded counts reports forwarded in the period, by kind
	// (hotline, police): a report once for each kind, however many
	// exports it took.
	Forwarded map[string]int `json:"forwarded"`
	// ItemsOfAssignedCases is set when the item figures (Items,
	// ByCategory, MatchesByHashSet) count only the cases the reader is
	// assigned to: an analyst's, since another case's items are its own
	// analysts' to know, even counted (a narrow period would otherwise
	// tell one item's deposit, category and matches). For them, too, the
	// notices, forwardings and closings made in such a case are not
	// counted (reports received are: every analyst reads every report).
	ItemsOfAssignedCases bool `json:"items_of_assigned_cases,omitempty"`
}

// ReportStats counts reports.
type ReportStats struct {
	Received  int            `json:"received"`
	Relevant  int            `json:"relevant"`
	ByChannel map[string]int `json:"by_channel"`
	Closed    map[string]int `json:"closed"`
	Open      int            `json:"open"`
}

// ItemStats counts items.
type ItemStats struct {
	Deposited int `json:"deposited"`
	Matched   int `json:"matched"`
	Known     int `json:"known"`
	New       int `json:"new"`
	// NewNotKnown are those of New that are not known material now: new
	// when deposited, and since neither a near-copy of known material (by
	// PDQ) nor listed by a set imported later. A hotline's figure of new
	// material is this one.
	NewNotKnown int `json:"new_not_known"`
	KnownGood   int `json:"known_good"`
	Images      int `json:"images"`
	Videos      int `json:"videos"`
}

// NoticeStats counts notices and times their takedowns.
type NoticeStats struct {
	Sent         int `json:"sent"`
	Acknowledged int `json:"acknowledged"`
	Removed      int `json:"removed"`
	// RemovalHours: from the notice to the content confirmed removed;
	// FromReportHours: from the report's receipt to the removal. Each
	// the median and the 90th percentile (nearest rank), in hours, over
	// the removals counted in N.
	RemovalHours    Percentiles `json:"removal_hours"`
	FromReportHours Percentiles `json:"from_report_hours"`
}

// Percentiles of durations, in hours.
type Percentiles struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
}

// percentiles is the median and 90th percentile (nearest rank) of ds.
func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	return Percentiles{N: len(ds), Median: rank(0.5).Hours(), P90: rank(0.9).Hours()}
}

// Statistics computes the figures of [from, to) (custodians, auditors,
// analysts).
func (v *Vault) Statistics(ctx context.Context, who Principal, from, to time.Time) (*Stats, error) {
	if err := v.MayReadStatistics(ctx, who); err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, badInput("the period from %s to %s is empty: its start (from) must be before its end (to, which is now when not given)", spokenTime(from), spokenTime(to))
	}
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }
	s := &Stats{From: from.UTC(), To: to.UTC(), LogSize: v.log.Size(), ByCategory: map[string]int{}, MatchesByHashSet: map[string]int{}, Forwarded: map[string]int{},
		Reports: ReportStats{ByChannel: map[string]int{}, Closed: map[string]int{}}}
	var removal, fromReport []time.Duration
	// For an analyst, what was decided about a report in a case they are
	// not assigned to (its notices, forwardings and closings) is not
	// counted, as their view of the report does not show it: a narrow
	// period would otherwise tell it (reportView).
	mayKnow := func(caseID string) bool {
		if who.Role != RoleAnalyst || caseID == "" {
			return true
		}
		c, _ := v.state.getCase(caseID)
		return assigned(who, c)
	}
	for _, r := range v.state.allReports() {
		notices := slices.DeleteFunc(slices.Clone(r.Notices), func(n *Notice) bool { return !mayKnow(n.Case) })
		forwards := slices.DeleteFunc(slices.Clone(r.Forwards), func(f Forward) bool { return !mayKnow(f.Case) })
		if in(r.ReceivedAt) {
			s.Reports.Received++
			s.Reports.ByChannel[r.Channel]++
			if len(notices) > 0 || len(forwards) > 0 {
				s.Reports.Relevant++
			}
			if r.Status != StatusClosed {
				s.Reports.Open++
			}
		}
		for _, c := range r.Closings {
			if in(c.At) && mayKnow(c.Case) {
				s.Reports.Closed[c.Reason]++
			}
		}
		for _, n := range notices {
			if !in(n.SentAt) {
				continue
			}
			s.Notices.Sent++
			if !n.AcknowledgedAt.IsZero() {
				s.Notices.Acknowledged++
			}
			if !n.RemovedAt.IsZero() {
				s.Notices.Removed++
				removal = append(removal, Elapsed(n.SentAt, n.RemovedAt))
				fromReport = append(fromReport, Elapsed(r.ReceivedAt, n.RemovedAt))
			}
		}
		// A report counts once for each kind of partner it went to in
		// the period, however many exports it took (two formats for one
		// partner, a second partner, a corrected export).
		forwardedTo := map[string]bool{}
		for _, f := range forwards {
			if in(f.At) && !forwardedTo[f.Kind] {
				forwardedTo[f.Kind] = true
				s.Forwarded[f.Kind]++
			}
		}
	}
	s.Notices.RemovalHours, s.Notices.FromReportHours = percentiles(removal), percentiles(fromReport)
	s.ItemsOfAssignedCases = who.Role == RoleAnalyst
	// An analyst's figures count the items of their cases only, and are
	// made of them only: whether an item is "new" compares it with the
	// earlier deposits of their cases, not with another case's, which
	// would tell them that case holds a file they deposited.
	mayCount := map[string]bool{}
	counts := func(caseID string) bool {
		if !s.ItemsOfAssignedCases {
			return true
		}
		ok, seen := mayCount[caseID]
		if !seen {
			c, _ := v.state.getCase(caseID)
			ok = assigned(who, c)
			mayCount[caseID] = ok
		}
		return ok
	}
	// Items are scanned a chunk at a time (State.scanItems), not held.
	err := v.state.scanItems(scanChunk, func(it Item) error {
		if !in(it.At.Time()) || !counts(it.Case) {
			return nil
		}
		s.Items.Deposited++
		known, err := v.knownBecause(ctx, it, nil)
		if err != nil {
			return err
		} else if known != "" {
			s.Items.Known++
		}
		// Categories as exports state them (statedClassification), from
		// the one known-material check each item needs here anyway, and,
		// for a not-illegal settlement it does not find known, the
		// check exports make (statedBecause).
		cl := v.classification(it)
		if stated := known; cl.notIllegalUncleared() {
			if stated == "" {
				if stated, err = v.statedBecause(ctx, it); err != nil {
					return err
				}
			}
			cl = cl.AgainstKnown(stated)
		}
		switch {
		case cl.Category != "":
			s.ByCategory[cl.Category]++
		case cl.Disputed:
			s.ByCategory["disputed"]++
		default:
			s.ByCategory["unclassified"]++
		}
		if cl.KnownGood {
			s.Items.KnownGood++
		}
		sets := map[string]bool{}
		for _, m := range it.Deposit.Matches() {
			sets[m.Set] = true
		}
		for set := range sets {
			s.MatchesByHashSet[set]++
		}
		if len(sets) > 0 {
			s.Items.Matched++
		}
		earlier := false
		others, err := v.state.itemsBySHA256(it.Deposit.SHA256)
		if err != nil {
			return err
		}
		for _, other := range others {
			o, ok, err := v.state.getItem(other)
			if err != nil {
				return err
			}
			if ok && o.DepositAt < it.DepositAt && counts(o.Case) {
				earlier = true
			}
		}
		if len(sets) == 0 && !earlier {
			s.Items.New++
			if known == "" {
				s.Items.NewNotKnown++
			}
		}
		switch it.Deposit.Media {
		case MediaImage:
			s.Items.Images++
		case MediaVideo:
			s.Items.Videos++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Elapsed is the time from from to to as people state times: in whole
// seconds. A time stated with --at has whole seconds and may name the
// same second as an event's time (which has a fraction of one) that it
// follows; counted from the event's exact time, it would be a fraction
// of a second before it.
func Elapsed(from, to time.Time) time.Duration {
	return to.Truncate(time.Second).Sub(from.Truncate(time.Second))
}
