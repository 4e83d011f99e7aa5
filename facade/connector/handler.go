package connector

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// DefinitionHandler serves a generated definition: GET /api/v1/swagger.json.
// The bytes are made once at start; a strong ETag lets tools revalidate.
func DefinitionHandler(def []byte) http.Handler {
	d := newDefinition(def)
	return http.HandlerFunc(d.serve)
}

// maxDefinitionOrigins bounds how many origins' definitions are kept: a
// service is reached at a handful of addresses, and Host headers are chosen
// by callers, so made-up ones are built on demand but never pile up.
const maxDefinitionOrigins = 16

// DefinitionsByOrigin serves, at GET /api/v1/swagger.json, the definition
// written for the public origin each request reached the service at (see
// publicurl): host, schemes and basePath name the address the caller used.
// build makes the definition for one origin; each distinct body keeps its own
// ETag.
func DefinitionsByOrigin(origin func(*http.Request) string, build func(origin string) ([]byte, error)) http.Handler {
	var (
		mu   sync.Mutex
		defs = map[string]definition{}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := origin(r)
		mu.Lock()
		d, ok := defs[o]
		mu.Unlock()
		if !ok {
			def, err := build(o)
			if err != nil {
				http.Error(w, "cannot build the connector definition", http.StatusInternalServerError)
				return
			}
			d = newDefinition(def)
			mu.Lock()
			if len(defs) < maxDefinitionOrigins {
				defs[o] = d
			}
			mu.Unlock()
		}
		// The body depends on the address the caller used.
		w.Header().Add("Vary", "Host, Forwarded, X-Forwarded-Proto, X-Forwarded-Host, X-Forwarded-Prefix")
		d.serve(w, r)
	})
}

// definition is one definition's bytes and their strong ETag.
type definition struct {
	body []byte
	etag string
}

func newDefinition(def []byte) definition {
	sum := sha256.Sum256(def)
	return definition{body: def, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

func (d definition) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", d.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, DefinitionFile, time.Time{}, bytes.NewReader(d.body))
}
