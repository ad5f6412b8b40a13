//go:build cgo

package tpm_test

import (
	"testing"

	"github.com/google/go-tpm/tpm2/transport/simulator"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/sealertest"
	"github.com/custos-vault/custos/hsm/tpm"
	"github.com/custos-vault/custos/internal/testenv"
)

// TestSimulator runs the suite on go-tpm's in-process reference simulator
// (the Microsoft TPM 2.0 reference code built with cgo and OpenSSL). Only
// one can exist per process, so this test is not parallel; "another TPM"
// is a swtpm.
func TestSimulator(t *testing.T) {
	sim, err := simulator.OpenSimulator()
	if err != nil {
		t.Fatalf("in-process simulator: %v", err)
	}
	defer sim.Close()
	other := testenv.StartSwtpm(t)
	sealertest.Run(t, func(t *testing.T) hsm.Sealer {
		return open(t, tpm.Config{TPM: sim, PCRs: []int{7}})
	}, sealertest.Options{
		Other: func(t *testing.T) hsm.Sealer { return open(t, tpm.Config{Addr: other.Addr(), PCRs: []int{7}}) },
	})
}
