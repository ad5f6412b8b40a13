package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
)

// Every string people read on a page is in locales/LANG.json, keyed by a
// stable id; en.json is complete (a test checks every key the templates
// use), and another language's file needs only the keys it translates:
// the rest fall back to English. Khmer (km) and Filipino (fil) are the
// first expected; see docs/web.md.
//
//go:embed locales/*.json
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
	files, err := localeFS.ReadDir("locales")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		b, err := localeFS.ReadFile("locales/" + f.Name())
		if err != nil {
			panic(err)
		}
		c := &catalog{lang: strings.TrimSuffix(f.Name(), path.Ext(f.Name()))}
		if err := json.Unmarshal(b, &c.msgs); err != nil {
			panic(fmt.Sprintf("locales/%s: %v", f.Name(), err))
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
