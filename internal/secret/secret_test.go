package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsNeverPrint(t *testing.T) {
	const value = "cst_supersecretvalue"
	s := New(value)
	type holder struct {
		Token  String
		Nested struct{ Key String }
	}
	h := holder{Token: s}
	h.Nested.Key = s
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "token", s, "holder", h)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "token", s, "holder", h)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		fmt.Sprint(s), fmt.Sprintf("%s %v %q %x %X %+v %#v %d", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", h, h, h), string(js), logged.String(), s.String(), s.GoString(),
	}
	for _, o := range outs {
		if strings.Contains(o, value) || strings.Contains(o, fmt.Sprintf("%x", value)) {
			t.Fatalf("the secret leaked: %s", o)
		}
	}
	if s.Reveal() != value || !s.Equal(New(value)) || s.Equal(New("other")) || New("").Empty() == false {
		t.Fatal("Reveal, Equal or Empty is wrong")
	}
}
