package mcp

import (
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// WellKnownPath is where RFC 9728 puts a protected resource's metadata: at
// the origin for the service as a whole, and with the resource's path
// appended for a resource at a path (/.well-known/oauth-protected-resource/mcp).
const WellKnownPath = "/.well-known/oauth-protected-resource"

// Resource describes the MCP endpoint as an OAuth protected resource, as
// the MCP authorization spec asks: a client refused with 401 follows the
// challenge's resource_metadata to the metadata, and the metadata to the
// authorization server that issues the tokens the service accepts.
type Resource struct {
	// AuthorizationServers are the issuers of accepted tokens: the Entra
	// ID tenant's in production, the dev issuer in dev mode.
	AuthorizationServers []string
	// Scopes are what a client asks the authorization server for.
	Scopes []string
	// Paths are where the MCP endpoint is served ("/mcp"); each has its
	// own metadata naming it.
	Paths []string
	// Origin is the public origin a request reached (publicurl.Resolver's
	// Origin): the metadata and the challenge name the address the client
	// used. It must not be nil.
	Origin func(*http.Request) string
}

// Metadata serves the metadata documents at WellKnownPath and at
// WellKnownPath followed by each of the Paths; anything else below
// WellKnownPath is 404.
func (res Resource) Metadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		suffix := strings.TrimPrefix(r.URL.Path, WellKnownPath)
		if suffix != "" && !slices.Contains(res.Paths, suffix) {
			http.NotFound(w, r)
			return
		}
		md := &oauthex.ProtectedResourceMetadata{
			Resource:               strings.TrimSuffix(res.Origin(r), "/") + suffix,
			AuthorizationServers:   res.AuthorizationServers,
			ScopesSupported:        res.Scopes,
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "middletier",
		}
		auth.ProtectedResourceMetadataHandler(md).ServeHTTP(w, r)
	})
}

// Challenge is the auth-param that a 401 or 403 from the MCP endpoint adds
// to its WWW-Authenticate challenge: where the metadata of the resource
// the request was for lives.
func (res Resource) Challenge(r *http.Request) string {
	suffix := ""
	if slices.Contains(res.Paths, r.URL.Path) {
		suffix = r.URL.Path
	}
	return `resource_metadata="` + strings.TrimSuffix(res.Origin(r), "/") + WellKnownPath + suffix + `"`
}
