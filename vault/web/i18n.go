package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Every string people read on a page is in locales/LANG/*.json, keyed by
// a stable id (the files of a language are merged; a key in two files is
// an error). English is complete (a test checks every key the templates
// and the code use); another language needs only the keys it translates:
// the rest fall back to English. Khmer (km) and Filipino (fil) are the
// first expected; see docs/web.md.
//
//go:embed locales
var localeFS embed.FS

type catalog struct {
	lang     string
	msgs     map[string]string
	fallback *catalog
}

var (
	catalogs       = map[string]*catalog{}
	defaultCatalog *catalog
)

func init() {
	langs, err := localeFS.ReadDir("locales")
	if err != nil {
		panic(err)
	}
	for _, l := range langs {
		c := &catalog{lang: l.Name(), msgs: map[string]string{}}
		files, err := localeFS.ReadDir("locales/" + l.Name())
		if err != nil {
			panic(err)
		}
		for _, f := range files {
			name := "locales/" + l.Name() + "/" + f.Name()
			b, err := localeFS.ReadFile(name)
			if err != nil {
				panic(err)
			}
			var msgs map[string]string
			if err := json.Unmarshal(b, &msgs); err != nil {
				panic(fmt.Sprintf("%s: %v", name, err))
			}
			for k, m := range msgs {
				if _, dup := c.msgs[k]; dup {
					panic(fmt.Sprintf("%s: key %q is in another file too", name, k))
				}
				c.msgs[k] = m
			}
		}
		catalogs[c.lang] = c
	}
	defaultCatalog = catalogs["en"]
	for _, c := range catalogs {
		if c != defaultCatalog {
			c.fallback = defaultCatalog
		}
	}
}

// text is key's message, with args put in as fmt.Sprintf would; a key no
// catalog has shows as itself in brackets (a test keeps there being none).
func (c *catalog) text(key string, args ...any) string {
	for k := c; k != nil; k = k.fallback {
		if m, ok := k.msgs[key]; ok && m != "" {
			if len(args) > 0 {
				return fmt.Sprintf(m, args...)
			}
			return m
		}
	}
	return "[" + key + "]"
}

// lookup is key's message, or "" if no catalog has it.
func (c *catalog) lookup(key string) string {
	for k := c; k != nil; k = k.fallback {
		if m, ok := k.msgs[key]; ok && m != "" {
			return m
		}
	}
	return ""
}

// Lang is the catalog's language tag, for <html lang>.
func (c *catalog) Lang() string { return c.lang }

// pickCatalog chooses the first language of the request's
// Accept-Language (ignoring weights' order for equal tags) that has a
// catalog, by its primary subtag; English otherwise.
func pickCatalog(r *http.Request) *catalog {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(tag)
		if c, ok := catalogs[tag]; ok {
			return c
		}
		if base, _, ok := strings.Cut(tag, "-"); ok {
			if c, ok := catalogs[base]; ok {
				return c
			}
		}
	}
	return defaultCatalog
}
