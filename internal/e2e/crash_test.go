package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// apiClient is a minimal API client for the crash test, which needs many
// concurrent requests and the raw responses.
type apiClient struct {
	base, token string
	http        *http.Client
}

func newAPIClient(s *server, person string) *apiClient {
	c := &apiClient{http: &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}}
	c.base, _ = s.credential(person)
	c.token = s.session(person)
	return c
}

func randInt(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}

// deposit uploads size random bytes and returns the item id and SHA-256
// if (and only if) the vault acknowledged it.
func (c *apiClient) deposit(caseID string, size int) (string, string, error) {
	b := make([]byte, size)
	rand.Read(b)
	sum := sha256.Sum256(b)
	want := hex.EncodeToString(sum[:])
	req, _ := http.NewRequest("POST", c.base+"/v1/cases/"+caseID+"/items?name=crash.bin", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.ContentLength = -1
	req.Trailer = http.Header{"Custos-Content-Sha256": {want}}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var out struct{ ID, SHA256 string }
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&out) != nil {
		return "", "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if out.SHA256 != want {
		return "", "", fmt.Errorf("acknowledged with SHA-256 %s, sent %s", out.SHA256, want)
	}
	return out.ID, want, nil
}

// get reads an item. access is the access event the vault named before
// sending any plaintext (0 if it sent none).
func (c *apiClient) get(id string) (access uint64, sum string, err error) {
	req, _ := http.NewRequest("GET", c.base+"/v1/items/"+id+"?purpose="+url.QueryEscape("crash test read"), nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	access, _ = strconv.ParseUint(resp.Header.Get("Custos-Access-Event"), 10, 64)
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return access, "", err
	}
	return access, hex.EncodeToString(h.Sum(nil)), nil
}

// TestCrashAtRandomMoments kills the server with SIGKILL at random moments
// while clients deposit and read concurrently, restarts it, and checks
// every time that every acknowledged deposit reads back with its SHA-256,
// and at the end that nothing is half-done, that leftovers were swept, that
// the log verifies and that no plaintext left without its access event.
// CUSTOS_CRASH_KILLS sets the number of kills (default 50; 10 with -short).
func TestCrashAtRandomMoments(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 10
	}
	if n, err := strconv.Atoi(os.Getenv("CUSTOS_CRASH_KILLS")); err == nil {
		kills = n
	}
	s := newServer(t, "--pending-retention", "3s")
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "CRASH", "--title", "kill -9")

	var mu sync.Mutex
	acked := map[string]string{} // item -> sha256
	var order []string
	type reveal struct {
		item   string
		access uint64
	}
	var reveals []reveal
	checked := 0
	for k := 0; k < kills; k++ {
		c := newAPIClient(s, "investigator")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					id, sum, err := c.deposit("CRASH", int(1024+randInt(2<<20)))
					if err != nil {
						return // the server died under us
					}
					mu.Lock()
					acked[id] = sum
					order = append(order, id)
					mu.Unlock()
				}
			}()
		}
		for r := 0; r < 2; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					if len(order) == 0 {
						mu.Unlock()
						time.Sleep(5 * time.Millisecond)
						continue
					}
					id := order[randInt(int64(len(order)))]
					mu.Unlock()
					access, _, err := c.get(id)
					if access > 0 {
						mu.Lock()
						reveals = append(reveals, reveal{id, access})
						mu.Unlock()
					}
					if err != nil {
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(20+randInt(300)) * time.Millisecond)
		s.kill()
		close(stop)
		wg.Wait()
		s.start()

		// Every deposit acknowledged so far reads back intact.
		c = newAPIClient(s, "investigator")
		mu.Lock()
		fresh := append([]string(nil), order[checked:]...)
		checked = len(order)
		mu.Unlock()
		for _, id := range fresh {
			_, sum, err := c.get(id)
			if err != nil || sum != acked[id] {
				t.Fatalf("kill %d: acknowledged deposit %s lost or altered: %v", k, id, err)
			}
		}
	}
	t.Logf("%d kills, %d acknowledged deposits, %d reveals started", kills, len(acked), len(reveals))
	if len(acked) == 0 {
		t.Fatal("no deposit was acknowledged: the test exercised nothing")
	}

	// The log verifies and the stored objects match their deposit events,
	// with no object left over.
	s.ok("auditor", work, "audit", "verify")
	scrub := s.ok("auditor", work, "audit", "scrub", "--json").json(t)
	awaiting := int(scrub["awaiting_sweep"].(float64))
	var tl struct {
		Events []struct {
			Seq  uint64 `json:"seq"`
			Type string `json:"type"`
			Item string `json:"item"`
			Data json.RawMessage
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(s.ok("auditor", work, "audit", "log", "--json").stdout), &tl); err != nil {
		t.Fatal(err)
	}
	bySeq := map[uint64]string{}
	deposits := map[string]int{}
	swept := 0
	owned := map[string]string{}    // object -> item
	orphaned := map[string]string{} // object -> the record naming it
	for _, ev := range tl.Events {
		bySeq[ev.Seq] = ev.Type + " " + ev.Item
		var d struct {
			Object  string   `json:"object"`
			Orphans []string `json:"orphans"`
		}
		json.Unmarshal(ev.Data, &d)
		switch ev.Type {
		case "item.deposited":
			deposits[ev.Item]++
			owned[d.Object] = ev.Item
		case "objects.swept":
			swept++
		}
		if ev.Type == "objects.swept" || ev.Type == "objects.retained" {
			for _, o := range d.Orphans {
				orphaned[o] = ev.Type
			}
		}
	}
	// The sweep after each start runs beside the deposits of the next
	// round: it never takes the object of a recorded deposit for an
	// orphan.
	for o, typ := range orphaned {
		if item, ok := owned[o]; ok {
			t.Fatalf("%s names %s, the object of item %s", typ, o, item)
		}
	}
	for id := range acked {
		if deposits[id] != 1 {
			t.Fatalf("acknowledged deposit %s has %d deposit events", id, deposits[id])
		}
	}
	// No reveal without its access event.
	for _, r := range reveals {
		if bySeq[r.access] != "item.accessed "+r.item {
			t.Fatalf("plaintext of %s was sent under access event %d, which the log holds as %q", r.item, r.access, bySeq[r.access])
		}
	}
	objs := 0
	filepath.WalkDir(filepath.Join(s.data, "objects", "ev"), func(p string, d os.DirEntry, err error) error {
		// Objects have plain names; "x.lock" and "x.lock.new" are the
		// fs store's retention sidecars.
		if err == nil && !d.IsDir() && !strings.Contains(d.Name(), ".") {
			objs++
		}
		return nil
	})
	// Leftovers are either deleted or, still under their short pending
	// retention, recorded as retained until a later start deletes them.
	if objs != len(deposits)+awaiting {
		t.Fatalf("%d evidence objects for %d deposit events and %d recorded orphans: leftovers were not swept", objs, len(deposits), awaiting)
	}
	if awaiting > 0 && swept == 0 {
		t.Fatal("orphans exist but no sweep was recorded")
	}
	t.Logf("%d deposit events, %d objects, %d orphans awaiting their sweep, %d sweeps recorded", len(deposits), objs, awaiting, swept)

	// Once the pending retention has passed, a start deletes them.
	if awaiting > 0 {
		time.Sleep(3500 * time.Millisecond)
		s.stop()
		s.start()
		scrub = s.ok("auditor", work, "audit", "scrub", "--json").json(t)
		if scrub["awaiting_sweep"].(float64) != 0 {
			t.Fatalf("orphans still awaiting their sweep after their retention ended: %v", scrub)
		}
	}
}
