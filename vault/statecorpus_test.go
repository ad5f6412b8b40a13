package vault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// The state corpus: custody logs written by this package's own tests,
// kept in testdata/state-corpus, and what a replay of each derives
// (testdata/state-corpus/RECORD: the SHA-256 of each log's bytes and of
// its replayed state as a snapshot encodes it, at the state version
// named). A change to an applier, or to what the state holds, changes
// what some log replays to; TestStateVersionRaisedWhenTheStateChanges
// then fails until stateVersion is raised, so that a start discards the
// older snapshots instead of loading them as if they held the new state.
// The logs are kept as their tests wrote them on the day they were
// recorded, so the test also fails when a log an earlier build wrote no
// longer replays.
//
// To record after raising stateVersion, or to record the log of a test
// added to stateCorpusTests:
//
//	go test ./vault -update-state-corpus
//
// It records the log of each test named in stateCorpusTests that has no
// file yet, and, after the run, writes RECORD. Under the state version
// RECORD names, it refuses a log that replays to another state and a log
// recorded again (deleted and written anew): once stateVersion is raised,
// a log may be deleted to record its test's log again.
var updateStateCorpus = flag.Bool("update-state-corpus", false, "record the missing logs of testdata/state-corpus and what each replays to")

// stateCorpusDir holds the corpus's logs and its RECORD.
const stateCorpusDir = "testdata/state-corpus"

// stateCorpusTests are the tests whose final logs make the corpus:
// together they write every type the appliers read, which
// TestStateVersionRaisedWhenTheStateChanges checks. A test that writes a
// new type is added here.
var stateCorpusTests = []string{
	"TestIdentitySourcesSignInOnceAccepted",
	"TestIdentitySourceRetired",
	"TestRequestsAskedThroughARetiredSourceAreVoid",
	"TestRequestsAskedWithACertificateOfARetiredCAAreVoid",
	"TestRetiredCAOfTheApproverVoidsTheInvitation",
	"TestReportLifecycle",
	"TestDestructionWhileAPackageIsBuilt",
	"TestVotesCountWhileTheirVoterIsTrusted",
	"TestSweepRecordsNoObjectAlreadyGone",
	"TestClearingNeedsVotersStillOnTheCase/listed_by_a_set",
	"TestARotationBesideAScrub",
	"TestTimelineOfUnknownIDsAndRepeatedHolds",
	"TestInvitationNeedsBothHalves",
	"TestReceiptKeyReplacementNeedsACustodian",
	"TestCustodyReportShowsRefusedSealings",
	"TestAVaultsOwnVICSListIsNotImportedBack",
	"TestDestructionRequestRejectedOrWithdrawn",
	"TestAMatchOfAReplacedSetSaysSo",
	"TestARecoveredContactsKeyIsLiveAgain",
	"TestASignedOutSessionActsNoMore",
	"TestAStatementOfWhatADepositSkipped",
	// Less common turns of the appliers: a notice sent again, requests
	// ended beside an approved destruction, a policy lowered under
	// settled votes, a case's own retention, a witness's key, a
	// recipient set for a person.
	"TestResentNoticeNotBeforeTheLast",
	// A log opened before the log key's recovery copy was recorded.
	"TestALogOpenedBeforeRecordsItsRecoveryCopy",
	"TestEndedDestructionRequestsSayHowTheyEnded",
	"TestVoidDestructionRequestIsNotApproved",
	"TestClassificationPolicySaysWhatItUnsettled",
	"TestACasesOwnRetentionIsKept",
	"TestScrubReadsEveryNameTheVaultGives",
	"TestRequesterToldHowTheirRequestEnded",
}

// stateCorpusFile is the file of a corpus test's log.
func stateCorpusFile(test string) string {
	return filepath.Join(stateCorpusDir, strings.ReplaceAll(test, "/", "__")+".ndjson")
}

// recordStateCorpus writes log's records, one a line, as the corpus log
// of t, when -update-state-corpus is set, t is a corpus test and its log
// has no file yet. Tests that open a vault by openTestVaultDir call it
// at their end; others call it themselves.
func recordStateCorpus(t testing.TB, log events.Store) {
	t.Helper()
	if !*updateStateCorpus || !slices.Contains(stateCorpusTests, t.Name()) || t.Failed() {
		return
	}
	path := stateCorpusFile(t.Name())
	if _, err := os.Stat(path); err == nil {
		return
	}
	var buf bytes.Buffer
	err := log.Read(context.Background(), 0, func(r events.Record) error {
		buf.Write(r.Bytes)
		buf.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatalf("recording the state corpus: %v", err)
	}
	if err := os.MkdirAll(stateCorpusDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replayCorpusLog returns the SHA-256 of the states a replay of the log
// in path derives after each of its events, each as a snapshot taken
// there would encode it (its length, 8 bytes big-endian, then its state
// lines), and the types of its events. A state held for a while and then
// left (a hold placed and lifted) counts as much as the last one.
func replayCorpusLog(path string) (sum string, types map[string]bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	st := newState()
	types = map[string]bool{}
	h := sha256.New()
	var enc bytes.Buffer
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for seq := uint64(0); sc.Scan(); seq++ {
		ev, err := events.Decode(sc.Bytes())
		if err != nil {
			return "", nil, fmt.Errorf("event %d: %w", seq, err)
		}
		if ev.Seq != seq {
			return "", nil, fmt.Errorf("line %d holds event %d", seq+1, ev.Seq)
		}
		if err := st.apply(ev); err != nil {
			return "", nil, fmt.Errorf("event %d (%s) no longer replays: %w", seq, ev.Type, err)
		}
		types[ev.Type] = true
		enc.Reset()
		if _, err := st.writeSnapshotBody(&enc, 0); err != nil {
			return "", nil, fmt.Errorf("event %d: encoding the state: %w", seq, err)
		}
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(enc.Len())))
		h.Write(enc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return "", nil, err
	}
	return hex.EncodeToString(h.Sum(nil)), types, nil
}

// stateRecord is RECORD: the state version and, for each log, the
// SHA-256 of its bytes and of its replayed state.
type stateRecord struct {
	version int
	logs    map[string][2]string // log file name: log, state
}

func readStateRecord() (*stateRecord, error) {
	b, err := os.ReadFile(filepath.Join(stateCorpusDir, "RECORD"))
	if err != nil {
		return nil, err
	}
	r := &stateRecord{logs: map[string][2]string{}}
	for n, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "#") || line == "":
		case len(f) == 2 && f[0] == "state_version":
			if r.version, err = strconv.Atoi(f[1]); err != nil {
				return nil, fmt.Errorf("RECORD line %d: %v", n+1, err)
			}
		case len(f) == 3:
			r.logs[f[0]] = [2]string{f[1], f[2]}
		default:
			return nil, fmt.Errorf("RECORD line %d: %q is neither state_version N nor LOG LOG-SHA256 STATE-SHA256", n+1, line)
		}
	}
	return r, nil
}

// corpusReplay is what each corpus log replays to now.
type corpusReplay struct {
	name, log, state string
	types            map[string]bool
}

func replayCorpus() ([]corpusReplay, error) {
	var out []corpusReplay
	for _, test := range stateCorpusTests {
		path := stateCorpusFile(test)
		raw, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no log in %s: record it with go test ./vault -update-state-corpus", test, stateCorpusDir)
		} else if err != nil {
			return nil, err
		}
		states, types, err := replayCorpusLog(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// The same log replays to the same bytes: a state whose encoding
		// depended on a map's order would be told apart by no record.
		again, _, err := replayCorpusLog(path)
		if err != nil || again != states {
			return nil, fmt.Errorf("%s: two replays of the log encode two states (%v): the snapshot's encoding is not deterministic", path, err)
		}
		logSum := sha256.Sum256(raw)
		out = append(out, corpusReplay{filepath.Base(path), hex.EncodeToString(logSum[:]), states, types})
	}
	return out, nil
}

// checkStateRecord returns what differs between the replays and the
// record, as a list of reasons, each saying what to do.
func checkStateRecord(rec *stateRecord, replays []corpusReplay) []string {
	var bad, changed []string
	if rec.version != stateVersion {
		bad = append(bad, fmt.Sprintf("RECORD is of state version %d, this build's is %d: record again with go test ./vault -update-state-corpus", rec.version, stateVersion))
	}
	for _, r := range replays {
		was, ok := rec.logs[r.name]
		switch {
		case !ok || was[0] != r.log:
			bad = append(bad, fmt.Sprintf("%s is not the log RECORD names: put it back (git checkout) while state version %d stands; a new log is recorded with go test ./vault -update-state-corpus", r.name, stateVersion))
		case was[1] != r.state && rec.version == stateVersion:
			changed = append(changed, r.name)
		}
	}
	if len(changed) > 0 {
		bad = append(bad, fmt.Sprintf("%s replay to other states than at state version %d: what a start derives from the log has changed, "+
			"so a snapshot of an earlier build would be loaded as if it held it. Raise stateVersion (vault/snapshot.go), "+
			"say what changed in the list above it, and record with go test ./vault -update-state-corpus", strings.Join(changed, ", "), stateVersion))
	}
	return bad
}

// recordRefusal says why RECORD may not be written for the corpus as it
// replays now, or nil. Under the state version RECORD names, a log it
// names is kept as it was: one that replays to another state means the
// raise of stateVersion is missing, and one recorded again (other bytes)
// would hide just that. Logs it does not name yet may be added; under a
// raised version, everything may be recorded again.
func recordRefusal(rec *stateRecord, replays []corpusReplay) error {
	if rec == nil || rec.version != stateVersion {
		return nil
	}
	for _, r := range replays {
		was, ok := rec.logs[r.name]
		switch {
		case !ok:
		case was[0] != r.log:
			return fmt.Errorf("%s is not the log RECORD names for state version %d: a corpus log is kept as it was recorded while the version stands (recorded again, it would hide a change of what it replays to); put it back (git checkout), or raise stateVersion (vault/snapshot.go) first", r.name, stateVersion)
		case was[1] != r.state:
			return fmt.Errorf("%s replays to another state than at state version %d: raise stateVersion (vault/snapshot.go) before recording", r.name, stateVersion)
		}
	}
	return nil
}

// writeStateRecord writes RECORD for the corpus as it replays now,
// unless recordRefusal refuses it.
func writeStateRecord() error {
	replays, err := replayCorpus()
	if err != nil {
		return err
	}
	rec, err := readStateRecord()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := recordRefusal(rec, replays); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# What each log of this folder replays to: the SHA-256 of the log's bytes\n")
	b.WriteString("# and of its replayed state as a snapshot encodes it. Written by\n")
	b.WriteString("# go test ./vault -update-state-corpus (vault/statecorpus_test.go).\n")
	fmt.Fprintf(&b, "state_version %d\n", stateVersion)
	for _, r := range replays {
		fmt.Fprintf(&b, "%s %s %s\n", r.name, r.log, r.state)
	}
	return os.WriteFile(filepath.Join(stateCorpusDir, "RECORD"), []byte(b.String()), 0o644)
}

// TestStateVersionRaisedWhenTheStateChanges: each corpus log, written by
// an earlier build, still replays, and to the state RECORD names for
// this state version; together the logs hold every type an applier
// reads.
func TestStateVersionRaisedWhenTheStateChanges(t *testing.T) {
	if *updateStateCorpus {
		t.Skip("recording: RECORD is written after the run")
	}
	replays, err := replayCorpus()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := readStateRecord()
	if err != nil {
		t.Fatal(err)
	}
	for _, why := range checkStateRecord(rec, replays) {
		t.Error(why)
	}
	held := map[string]bool{}
	for _, r := range replays {
		for typ := range r.types {
			held[typ] = true
		}
	}
	for typ := range appliers {
		if !held[typ] {
			t.Errorf("no log of %s holds a %s event, so no change to its applier would be seen: add a test that writes one to stateCorpusTests (vault/statecorpus_test.go) and record its log", stateCorpusDir, typ)
		}
	}
}

// TestAMissedStateVersionRaiseIsSeen: the check and the recording both
// refuse a corpus log whose replay changed under the same state version,
// and the recording refuses a log recorded again under it (how the check
// could otherwise be passed); under a raised version, or for a log not
// yet recorded, they accept.
func TestAMissedStateVersionRaiseIsSeen(t *testing.T) {
	replays, err := replayCorpus()
	if err != nil {
		t.Fatal(err)
	}
	record := func(version int) *stateRecord {
		rec := &stateRecord{version: version, logs: map[string][2]string{}}
		for _, r := range replays {
			rec.logs[r.name] = [2]string{r.log, r.state}
		}
		return rec
	}
	rec := record(stateVersion)
	if bad := checkStateRecord(rec, replays); len(bad) != 0 {
		t.Fatalf("the corpus against its own replay: %q", bad)
	}
	if err := recordRefusal(rec, replays); err != nil {
		t.Fatalf("recording the corpus as it is: %v", err)
	}
	// An applier that records one more thing: the replay of the log
	// holding its type changes.
	changed := slices.Clone(replays)
	changed[0].state = strings.Repeat("0", 64)
	bad := checkStateRecord(rec, changed)
	if len(bad) != 1 || !strings.Contains(bad[0], "Raise stateVersion") || !strings.Contains(bad[0], changed[0].name) {
		t.Fatalf("a changed replay under the same state version: %q", bad)
	}
	if err := recordRefusal(rec, changed); err == nil || !strings.Contains(err.Error(), "raise stateVersion") {
		t.Fatalf("recording a changed replay under the same state version: %v", err)
	}
	// The same change, with its log deleted and recorded anew: other
	// bytes, another state.
	rerecorded := slices.Clone(changed)
	rerecorded[0].log = strings.Repeat("1", 64)
	if err := recordRefusal(rec, rerecorded); err == nil || !strings.Contains(err.Error(), "is not the log RECORD names") {
		t.Fatalf("recording a log recorded again under the same state version: %v", err)
	}
	if bad := checkStateRecord(rec, rerecorded); len(bad) != 1 || !strings.Contains(bad[0], "is not the log RECORD names") {
		t.Fatalf("a log recorded again: %q", bad)
	}
	// A log RECORD does not name yet is added.
	added := append(slices.Clone(replays), corpusReplay{name: "TestNew.ndjson", log: strings.Repeat("2", 64), state: strings.Repeat("3", 64)})
	if err := recordRefusal(rec, added); err != nil {
		t.Fatalf("recording a new log: %v", err)
	}
	// Under a raised version, RECORD is only out of date, and anything
	// is recorded again.
	raised := record(stateVersion - 1)
	if bad := checkStateRecord(raised, changed); len(bad) != 1 || strings.Contains(bad[0], "Raise stateVersion") {
		t.Fatalf("a changed replay under a raised state version: %q", bad)
	}
	if err := recordRefusal(raised, rerecorded); err != nil {
		t.Fatalf("recording under a raised state version: %v", err)
	}
}

// TestASignedOutSessionActsNoMore: a person's sign-out ends their
// session (session.ended): its token no longer signs them in, what they
// then ask is refused, and a second sign-out is refused too.
func TestASignedOutSessionActsNoMore(t *testing.T) {
	ctx := context.Background()
	v := openTestVault(t)
	tok, err := v.Enroll(ctx, "inv", RoleInvestigator)
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.OpenSession(ctx, tok.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(s.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if err := v.OpenCase(ctx, p, "S-1", "before the sign-out"); err != nil {
		t.Fatal(err)
	}
	if err := v.EndSession(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(s.Token.Reveal()); err == nil {
		t.Fatal("the token of an ended session still signs its person in")
	}
	if err := v.OpenCase(ctx, p, "S-2", "after the sign-out"); err == nil {
		t.Fatal("a case was opened in an ended session")
	}
	if err := v.EndSession(ctx, p); err == nil {
		t.Fatal("an ended session was ended again")
	}
	if n := countType(t, v, TypeSessionEnded); n != 1 {
		t.Fatalf("%d session.ended events, want 1", n)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && *updateStateCorpus {
		if err := writeStateRecord(); err != nil {
			fmt.Fprintln(os.Stderr, "recording the state corpus:", err)
			code = 1
		}
	}
	os.Exit(code)
}
