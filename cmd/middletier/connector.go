package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/facade/connector"
	"github.com/middletier/middletier/graph"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/publicurl"
)

const connectorUsage = `Usage:
  middletier connector export --out DIR [--public-url URL] [--client-id ID] [--resource-uri URI] [--tenant T] [settings]
      write apiDefinition.swagger.json, apiProperties.json, settings.json and icon.png
      into DIR for paconn create or pac connector create (see docs/connector.md)
`

func connectorCmd(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprint(stderr, connectorUsage)
		if len(args) == 0 {
			return errors.New("connector: missing subcommand export")
		}
		return fmt.Errorf("connector: unknown subcommand %q", args[0])
	}
	var out string
	cfg, err := parseConfig("connector export", "middletier connector export --out DIR: write the Power Platform connector package (no database needed)", args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "directory to write the connector package into (created if missing)")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return errors.New("connector export: --out DIR is required")
	}
	// The schema and the operation files are compiled in: the export needs
	// neither a database nor a running service.
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	ops, err := facade.LoadEmbedded(schema)
	if err != nil {
		return fmt.Errorf("connector export: %w", err)
	}
	opts := definitionOptions(cfg)
	if err := connector.ExportPackage(out, ops, schema, opts); err != nil {
		return fmt.Errorf("connector export: %w", err)
	}
	for _, f := range []string{connector.DefinitionFile, connector.PropertiesFile, connector.SettingsFile, connector.IconFile} {
		fmt.Fprintln(stdout, "wrote", filepath.Join(out, f))
	}
	fmt.Fprintf(stdout, "connector %q: %d operations\n", opts.Title, len(ops))
	writeHostNote(stdout, cfg.PublicURL)
	if opts.ClientID == "" {
		fmt.Fprintf(stdout, "note: no --client-id: apiProperties.json has the placeholder %s; set it before import\n", connector.PlaceholderClientID)
	}
	if opts.ResourceURI == "" {
		fmt.Fprintf(stdout, "note: no --resource-uri or --auth-audiences: apiProperties.json has the placeholder %s; set it before import\n", connector.PlaceholderResourceURI)
	}
	return nil
}

// writeHostNote says which host the exported definition names. A running
// service writes the address each caller used; a file has no request to
// follow, so without --public-url it names the default, and a maker must
// know that before importing it.
func writeHostNote(stdout io.Writer, publicURL string) {
	if publicURL != "" {
		fmt.Fprintf(stdout, "host: the definition names %s%s (from --public-url)\n", publicURL, facade.BasePath)
		return
	}
	def := connector.DefaultOptions().PublicURL
	fmt.Fprintf(stdout, "host: the definition names %s%s, the default: no --public-url was given and an exported file has no request to follow\n", def, facade.BasePath)
	fmt.Fprintln(stdout, "      set the address connections reach with --public-url https://HOST[/PREFIX] (or MIDDLETIER_PUBLIC_URL) and export again,")
	fmt.Fprintln(stdout, "      or download GET /api/v1/swagger.json from the running service, which names the host it was called at")
}

// definitionOptions maps the settings onto the connector's publishing
// options. Values left empty fall back on the identity settings, so that a
// service configured for Entra ID publishes a connector that signs in to it.
func definitionOptions(cfg config.Config) connector.Options {
	c := cfg.Connector
	o := connector.Options{
		PublicURL:   cfg.PublicURL,
		Title:       c.Title,
		ClientID:    c.ClientID,
		ResourceURI: c.ResourceURI,
		TenantID:    c.Tenant,
		Scopes:      c.Scopes,
		BrandColor:  c.BrandColor,
		Publisher:   c.Publisher,
		StackOwner:  c.Publisher,
		Environment: c.Environment,
	}
	if o.ResourceURI == "" {
		// v1 tokens (what the aad provider gets) carry the application ID
		// URI as audience; prefer it over a bare client id.
		for _, a := range cfg.Auth.Audiences {
			if strings.HasPrefix(a, "api://") {
				o.ResourceURI = a
				break
			}
		}
		if o.ResourceURI == "" && len(cfg.Auth.Audiences) > 0 {
			o.ResourceURI = cfg.Auth.Audiences[0]
		}
	}
	if o.TenantID == "" {
		o.TenantID = cfg.Auth.TenantID
	}
	if len(o.Scopes) == 0 {
		o.Scopes = cfg.Auth.WriteScopes
	}
	return o
}

// definitionHandler serves, at GET /api/v1/swagger.json, the connector
// definition of the operations the facade serves, written for the public
// origin each request reached the service at (or --public-url). The fixed or
// default origin's definition is built at start, so a definition that cannot
// be generated stops the service instead of failing its first import.
func definitionHandler(cfg config.Config, pub *publicurl.Resolver, ops []facade.Operation, schema *ast.Schema) (http.Handler, error) {
	build := func(origin string) ([]byte, error) {
		opts := definitionOptions(cfg)
		opts.PublicURL = origin
		return connector.Swagger(ops, schema, opts)
	}
	start := pub.Fixed()
	if start == "" {
		start = connector.DefaultOptions().PublicURL
	}
	if _, err := build(start); err != nil {
		return nil, err
	}
	return connector.DefinitionsByOrigin(pub.Origin, build), nil
}
