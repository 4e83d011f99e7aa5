package graph

// Trusted documents: in production a GraphQL endpoint that runs any
// document a client makes up is an open door to the backends, whatever
// the cost limits say. With --trusted-documents set, /graphql runs only the
// documents the operators registered (a fixed allow-list) and the facade's
// operation documents, each addressed by the sha256 of its text as
// automatic persisted queries (APQ) address them; anything else is refused
// before it is parsed. Registration is a deployment, never a request: APQ's
// "send the text once and it is remembered" is off in this mode.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of refused documents.
const (
	// CodeTrustedDocumentRequired refuses a document that is not registered.
	CodeTrustedDocumentRequired = "TRUSTED_DOCUMENT_REQUIRED"
	// CodePersistedQueryNotFound is APQ's code for an unknown hash, so
	// that clients built for APQ recognise it.
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
)

// DocumentHash is how a trusted document is addressed: the lower-case hex
// sha256 of its exact text, as in APQ's extensions.persistedQuery.sha256Hash.
func DocumentHash(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// trustedDocuments is the allow-list, and the extension that enforces it.
type trustedDocuments struct {
	mu   sync.RWMutex
	docs map[string]string // hash -> text
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*trustedDocuments)(nil)

func (*trustedDocuments) ExtensionName() string                   { return "TrustedDocuments" }
func (*trustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

func (t *trustedDocuments) add(doc string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.docs[DocumentHash(doc)] = doc
}

func (t *trustedDocuments) lookup(hash string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	doc, ok := t.docs[hash]
	return doc, ok
}

// MutateOperationParameters runs before the document is parsed: a known
// hash becomes its document; a text is accepted only when it is exactly a
// registered document.
func (t *trustedDocuments) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if pq, ok := p.Extensions["persistedQuery"].(map[string]any); ok {
		hash, _ := pq["sha256Hash"].(string)
		doc, found := t.lookup(strings.ToLower(hash))
		switch {
		case hash == "":
			return refuse(CodeTrustedDocumentRequired, "extensions.persistedQuery needs sha256Hash: the sha256 of a trusted document's text, in hex")
		case !found:
			return refuse(CodePersistedQueryNotFound, "no trusted document has this sha256Hash; this service runs only the documents its operators registered")
		case p.Query != "" && p.Query != doc:
			return refuse(CodeTrustedDocumentRequired, "the query text is not the trusted document of this sha256Hash; send the hash alone")
		}
		p.Query = doc
		return nil
	}
	if p.Query == "" {
		// gqlgen answers an empty request itself.
		return nil
	}
	if _, ok := t.lookup(DocumentHash(p.Query)); ok {
		return nil
	}
	return refuse(CodeTrustedDocumentRequired, "this service runs only trusted documents: send the sha256Hash of a registered document in extensions.persistedQuery; new documents are registered by the service's operators")
}

func refuse(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// loadTrustedDocuments reads the allow-list at path and checks every
// document against schema, so that a broken one stops the start, naming
// its file: a directory of .graphql files (each file one document, hashed
// as it is, byte for byte), or a JSON file mapping each document's sha256
// to its text (the persisted-documents manifest GraphQL Code Generator and
// others write), whose hashes must match.
func loadTrustedDocuments(path string, schema *ast.Schema) (*trustedDocuments, error) {
	t := &trustedDocuments{docs: map[string]string{}}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	check := func(name, doc string) error {
		if _, errs := gqlparser.LoadQuery(schema, doc); len(errs) > 0 {
			return fmt.Errorf("trusted document %s: %s", name, errs[0].Message)
		}
		t.add(doc)
		return nil
	}
	if !info.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("trusted documents: %w", err)
		}
		var manifest map[string]string
		if err := json.Unmarshal(b, &manifest); err != nil {
			return nil, fmt.Errorf("trusted documents %s: want a JSON object of sha256 hash to document text, or a directory of .graphql files: %w", path, err)
		}
		for hash, doc := range manifest {
			if DocumentHash(doc) != strings.ToLower(hash) {
				return nil, fmt.Errorf("trusted documents %s: the key %.16s... is not the sha256 of its document (that is %s)", path, hash, DocumentHash(doc))
			}
			if err := check(path+" "+hash, doc); err != nil {
				return nil, err
			}
		}
	} else {
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || (filepath.Ext(p) != ".graphql" && filepath.Ext(p) != ".gql") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return check(p, string(b))
		})
		if err != nil {
			return nil, fmt.Errorf("trusted documents: %w", err)
		}
	}
	if len(t.docs) == 0 {
		return nil, errors.New("trusted documents: " + path + " holds no document (.graphql files, or a JSON object of hash to text)")
	}
	return t, nil
}
