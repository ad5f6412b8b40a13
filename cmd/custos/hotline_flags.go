package main

import (
	"flag"
	"fmt"
	"net"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// hotlineFlags are the server flags of hotline work (docs/hotline.md).
type hotlineFlags struct {
	publicListen    string
	hotlineName     string
	reportsPerMin   float64
	exposureLimit   int
	pdqDistance     int
	hashsetApproval string
}

func (h *hotlineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&h.publicListen, "public-listen", "", "the `ADDRESS` (HOST:PORT) of the public report intake (a form and report submission only; may face the internet while --listen stays internal)")
	fs.StringVar(&h.hotlineName, "hotline-name", "", "the hotline's name, shown on the public report form")
	fs.Float64Var(&h.reportsPerMin, "public-reports-per-minute", 1, "reports per minute the public intake takes from one address (after a burst of 5)")
	fs.IntVar(&h.pdqDistance, "pdq-max-distance", 31, "bits of 256 within which two PDQ hashes match (near-copies are known material)")
	fs.IntVar(&h.exposureLimit, "exposure-daily-limit", 0, "items a person may be shown a day before each further reveal warns them (0: no limit)")
	fs.StringVar(&h.hashsetApproval, "hashset-approval", "none", "`required|none`: required makes each hash-set import a request a second custodian approves before the set is used (a set decides what is hidden from review in every case); none: one custodian's import is used at once. Recorded at every start")
}

func (h *hotlineFlags) check(dev, useTLS bool) error {
	if h.reportsPerMin <= 0 {
		return usageErr("--public-reports-per-minute must be positive")
	}
	if h.pdqDistance < 1 || h.pdqDistance > 64 {
		return usageErr("--pdq-max-distance is between 1 and 64 bits")
	}
	if h.exposureLimit < 0 {
		return usageErr("--exposure-daily-limit must be 0 (no limit) or more")
	}
	if h.hashsetApproval != "none" && h.hashsetApproval != "required" {
		return usageErr("--hashset-approval %q: use required or none", h.hashsetApproval)
	}
	if h.publicListen == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(h.publicListen)
	if err != nil {
		return usageErr("--public-listen %q: %v", h.publicListen, err)
	}
	if dev && !isLoopback(host) {
		return fmt.Errorf("--public-listen %s: --dev listens only on loopback", h.publicListen)
	}
	if !useTLS && !isLoopback(host) {
		return fmt.Errorf("--public-listen %s: plain HTTP is served only on loopback; give --tls-cert and --tls-key (or put a TLS proxy in front, on loopback)", h.publicListen)
	}
	return nil
}

func (h *hotlineFlags) apply(cfg *vault.Config) {
	cfg.ExposureDailyLimit = h.exposureLimit
	cfg.PDQMaxDistance = h.pdqDistance
	cfg.HashSetApproval = h.hashsetApproval == "required"
}

func (h *hotlineFlags) publicOptions() api.PublicOptions {
	return api.PublicOptions{ReportRate: h.reportsPerMin / 60, Hotline: h.hotlineName}
}
