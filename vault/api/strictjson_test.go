package api

import "testing"

func TestLoneSurrogatesRefused(t *testing.T) {
	type req struct {
		Title string `json:"title"`
	}
	for body, ok := range map[string]bool{
		`{"title":"\ud800"}`:       false,
		`{"title":"a\udc00b"}`:     false,
		`{"title":"\ud800\u0041"}`: false,
		`{"title":"\ud83d\ude00"}`: true,
		`{"title":"\\ud800"}`:      true, // an escaped backslash, then text
		`{"title":"plain \u00e9"}`: true,
		`{"title":"end \ud83d"}`:   false,
	} {
		var r req
		err := decodeStrict([]byte(body), &r)
		if (err == nil) != ok {
			t.Errorf("%s: err %v, want accepted %v", body, err, ok)
		}
	}
}
