package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The command line as people type it: testdata/script/*.txtar, in the
// style of age's cmd/age/testdata. Each script runs `custos` as a program
// (this test binary, through testscript.Main). Two commands of the
// scripts' own:
//
//	serve [FLAG...]
//	               starts `custos server --dev` in $WORK/data on a free
//	               loopback port, for the script's length ($SERVER is
//	               its URL, $ADDR its host and port), with the server
//	               flags given
//	as PERSON      signs the following commands in as a development
//	               person (CUSTOS_SERVER, CUSTOS_TOKEN and a config folder
//	               of their own), as sourcing DIR/dev/PERSON.env does
//	sqlexec FILE STATEMENT
//	               runs one SQL statement on a SQLite file, as a database
//	               administrator with a shell on the server would
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"custos": main})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("CUSTOS_CONFIG_DIR", filepath.Join(env.WorkDir, "config"))
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"serve":   serveCmd,
			"as":      asCmd,
			"sqlexec": sqlexecCmd,
		},
	})
}

func serveCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: serve [FLAG...]")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := l.Addr().String()
	l.Close()
	data := ts.MkAbs("data")
	bin, err := exec.LookPath("custos")
	if p := ts.Getenv("PATH"); p != "" {
		for _, dir := range filepath.SplitList(p) {
			if _, e := os.Stat(filepath.Join(dir, "custos")); e == nil {
				bin, err = filepath.Join(dir, "custos"), nil
				break
			}
		}
	}
	ts.Check(err)
	// The folder named as make run names it, relative to where the
	// server runs.
	cmd := exec.Command(bin, append([]string{"server", "--dev", "--data", "data", "--listen", addr}, args...)...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = append(os.Environ(), "TMPDIR="+ts.MkAbs("tmp"))
	os.MkdirAll(ts.MkAbs("tmp"), 0o700)
	logf, err := os.Create(ts.MkAbs("server.log"))
	ts.Check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	ts.Check(cmd.Start())
	ts.Defer(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		logf.Close()
	})
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// Ready once the development server has said how to use it, which
		// it writes after "listening on" (a script reads those lines).
		if b, err := os.ReadFile(ts.MkAbs("server.log")); err == nil && strings.Contains(string(b), "listening on") && strings.Contains(string(b), "In a browser: ") {
			if _, err := os.Stat(filepath.Join(data, "dev", "custodian2.env")); err == nil {
				ts.Setenv("SERVER", "http://"+addr)
				ts.Setenv("ADDR", addr)
				return
			}
		}
	}
	b, _ := os.ReadFile(ts.MkAbs("server.log"))
	ts.Fatalf("the server did not start:\n%s", b)
}

func asCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: as PERSON")
	}
	f, err := os.Open(filepath.Join(ts.MkAbs("data"), "dev", args[0]+".env"))
	ts.Check(err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kv, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			ts.Setenv(k, v)
		}
	}
	ts.Setenv("CUSTOS_CONFIG_DIR", ts.MkAbs("config-"+args[0]))
	fmt.Fprintf(ts.Stdout(), "")
}

func sqlexecCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sqlexec FILE STATEMENT")
	}
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0])+"?_pragma=busy_timeout(10000)")
	ts.Check(err)
	defer db.Close()
	res, err := db.Exec(args[1])
	if neg {
		if err == nil {
			ts.Fatalf("the statement succeeded")
		}
		return
	}
	ts.Check(err)
	n, _ := res.RowsAffected()
	fmt.Fprintf(ts.Stdout(), "%d rows\n", n)
}
