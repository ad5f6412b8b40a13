package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/custos-vault/custos/events/tsa/tsaclient"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/internal/inputfile"
	"github.com/custos-vault/custos/internal/keyfile"
	"github.com/custos-vault/custos/vault"
)

// anchorFlags are the server's flags for anchoring the custody log
// outside the vault: witnesses (docs/witnesses.md) and time-stamping
// authorities (docs/timestamps.md). Without any, the server dials nothing.
type anchorFlags struct {
	witnesses stringList
	quorum    int
	policy    string
	tsas      stringList
	tsaEvery  time.Duration
	tsaCert   string

	pol   *witness.Policy
	certs []*x509.Certificate
}

func (f *anchorFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.witnesses, "witness", "a C2SP witness that cosigns each checkpoint: `NAME=VKEY@URL`, its name for messages, its cosignature/v1 verifier key and base URL; repeatable")
	fs.IntVar(&f.quorum, "witness-quorum", 0, "how many --witness must cosign a checkpoint (default: all of them)")
	fs.StringVar(&f.policy, "witness-policy", "", "a `FILE` of witness policy lines (witness NAME VKEY URL, group, quorum; docs/witnesses.md) instead of --witness and --witness-quorum")
	fs.Var(&f.tsas, "tsa", "`URL` of an RFC 3161 time-stamping authority that time-stamps checkpoints, packages and audits; repeatable")
	fs.StringVar(&f.tsaCert, "tsa-cert", "", "a PEM `FILE` of the certificates the --tsa authorities' tokens must verify against (their own, an intermediate or a root, and the root of any certificate they carry; keep those of authorities used before): a token that does not is refused, and a scrub lists a stored one as unaccounted; also without --tsa, for the tokens stored before")
	fs.Var(durationFlag{&f.tsaEvery}, "tsa-interval", "time-stamp published checkpoints at most this `DURATION` apart (default 0: each one; packages and audits are always time-stamped)")
}

func (f *anchorFlags) check() error {
	for _, u := range f.tsas {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return usageErr("--tsa %q: want an http:// or https:// URL", tsaclient.Redact(u))
		}
	}
	if f.tsaEvery < 0 {
		return usageErr("--tsa-interval must not be negative")
	}
	if f.tsaCert != "" {
		// Also without --tsa: a vault that no longer time-stamps keeps
		// the tokens it stored, which a scrub judges by these.
		certs, err := readTSACerts(f.tsaCert)
		if err != nil && !strings.Contains(err.Error(), "--tsa-cert") {
			err = fmt.Errorf("--tsa-cert: %w", err)
		}
		if err != nil {
			return err
		}
		f.certs = certs
	}
	if f.policy != "" && (len(f.witnesses) > 0 || f.quorum != 0) {
		return usageErr("--witness-policy replaces --witness and --witness-quorum; give one or the other")
	}
	if f.policy != "" {
		b, err := inputfile.ReadFile(f.policy, 1<<20)
		if err != nil {
			return fmt.Errorf("--witness-policy: %w", err)
		}
		if f.pol, err = witness.ParsePolicy(b); err != nil {
			return fmt.Errorf("--witness-policy: %w", keyfile.Malformed(f.policy, "witness policy", "witness policy", b, err))
		}
		// A witness without a URL is one the server does not submit to:
		// a retired witness, kept so that the cosigned checkpoints it
		// signed stay the vault's to a scrub (docs/witnesses.md).
		if !f.pol.Reachable() {
			return fmt.Errorf("--witness-policy %s: its quorum needs witnesses without a URL, which the server cannot reach: give them their URLs (a line without one keeps a retired witness's key, outside every group, for checking what it cosigned before)", f.policy)
		}
		return nil
	}
	if len(f.witnesses) == 0 {
		if f.quorum != 0 {
			return usageErr("--witness-quorum needs --witness")
		}
		return nil
	}
	var ws []witness.Witness
	for _, s := range f.witnesses {
		w, err := witness.ParseFlag(s)
		if err != nil {
			return usageErr("%v", err)
		}
		ws = append(ws, w)
	}
	p, err := witness.NewPolicy(ws, f.quorum)
	if err != nil {
		return usageErr("--witness-quorum: %v", err)
	}
	f.pol = p
	return nil
}

func (f *anchorFlags) apply(cfg *vault.Config) {
	cfg.Witnesses = f.pol
	cfg.TSAs, cfg.TSAInterval, cfg.TSACerts = f.tsas, f.tsaEvery, f.certs
}
