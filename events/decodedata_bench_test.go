package events_test

import (
	"encoding/json"
	"testing"

	"github.com/custos-vault/custos/events"
)

var benchData = []byte(`{"name":"chat \u003cexport\u003e \u0026 log.txt","size":67,"sha256":"4565f84ac39b279f3e08fedbcd6c28c74a9064992fd3e568e2a6994ef69e3521","md5":"c18dfdea2fda3acfaf4e88d59b5d3e7b","sha1":"f4611a4aadc4499ee8d80f44c5eec54e1e7cd16e","object":"ev/46d549735c488a4b1b878f29e1cf761b","ciphertext_size":267,"ciphertext_sha256":"46d549735c488a4b1b878f29e1cf761bf339b28906384e7e3fcf5a4e0d4a1d63"}`)

type depData struct {
	Name             string `json:"name"`
	Size             int64  `json:"size"`
	SHA256           string `json:"sha256"`
	MD5              string `json:"md5"`
	SHA1             string `json:"sha1"`
	Object           string `json:"object"`
	CiphertextSize   int64  `json:"ciphertext_size"`
	CiphertextSHA256 string `json:"ciphertext_sha256"`
}

func BenchmarkDecodeDataStrict(b *testing.B) {
	ev := &events.Event{Data: benchData}
	for b.Loop() {
		var d depData
		if err := ev.DecodeData(&d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeDataPlain(b *testing.B) {
	for b.Loop() {
		var d depData
		if err := json.Unmarshal(benchData, &d); err != nil {
			b.Fatal(err)
		}
	}
}
