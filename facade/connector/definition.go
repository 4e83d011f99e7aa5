// Package connector publishes the facade's operations as a Power Platform
// custom connector: the Swagger 2.0 definition (paths and parameters from
// each operation's REST binding, response schemas from its selection set,
// labels from the schema's names and descriptions), the handler that serves
// it per public origin, and the package that paconn and pac import
// (apiProperties.json, settings.json, icon.png).
//
// It reads operations the facade loaded: facade.Load has validated each
// document against the schema and checked its binding (methods, routes,
// result paths, paged shapes, parameter types, path variables, pickers), so
// the publisher checks only what it alone decides.
package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-openapi/spec"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/publicurl"
)

// securityName names the one security definition; Office365Groups and most
// Entra ID connectors in microsoft/PowerPlatformConnectors use this name.
const securityName = "oauth2_auth"

// Entra ID endpoints of the v1 authorization-code flow that the connector's
// "aad" identity provider runs (CONNECTOR.md §3). The tenant segment is
// "common" because the connection's real tenant comes from apiProperties.
const (
	authorizationURL = "https://login.microsoftonline.com/common/oauth2/authorize"
	tokenURL         = "https://login.microsoftonline.com/common/oauth2/token"
)

// Options are the publishing settings of the connector: what the
// definition says about the service and how a connection signs in. Zero
// values take the defaults of DefaultOptions.
type Options struct {
	// PublicURL is the address makers' connections reach, e.g.
	// https://middletier.contoso.com; host, schemes and the basePath prefix
	// come from it.
	PublicURL string
	// Title is the connector's display name (<= 30 characters, no "API" or
	// "Connector"); Description is 30-500 characters.
	Title, Description, Version string
	// Contact and certification metadata (info.contact, x-ms-connector-metadata).
	ContactName, ContactURL, ContactEmail string
	Website, PrivacyPolicy                string
	Categories                            []string
	// Scopes are the delegated scopes a connection asks for.
	Scopes []string

	// The rest only goes into apiProperties.json.

	// ClientID is the application (client) id of the connector's Entra app
	// registration; empty writes a clearly marked placeholder.
	ClientID string
	// ResourceURI is the Application ID URI (or client id) of the app
	// registration that protects middletier: the token audience.
	ResourceURI string
	// TenantID is the Entra tenant that signs users in; "common" lets any.
	TenantID string
	// BrandColor is the icon background, "#RRGGBB".
	BrandColor string
	// Publisher and StackOwner are certification metadata.
	Publisher, StackOwner string
	// Environment is the Power Platform environment (a GUID or
	// Default-<GUID>) that settings.json names for paconn; empty leaves it
	// to the command line.
	Environment string
}

// Placeholders written when a setting is not given: braces make them
// impossible to mistake for real values (the Office365Groups sample in
// microsoft/PowerPlatformConnectors marks its client id the same way).
const (
	PlaceholderClientID    = "{connector_client_id}"
	PlaceholderResourceURI = "api://{middletier_api_client_id}"
)

// DefaultOptions are the settings used where opts leaves a zero value.
func DefaultOptions() Options {
	return Options{
		PublicURL:     publicurl.Default,
		Title:         config.DefaultConnectorTitle,
		Description:   "Find products and their stock across stores, record and follow up customer backorders, and open the employee home view with profile, news and events in one call.",
		Version:       "1.0.0",
		ContactName:   "Middletier team",
		ContactURL:    "https://github.com/middletier/middletier",
		ContactEmail:  "middletier@example.com",
		Website:       "https://github.com/middletier/middletier",
		PrivacyPolicy: "https://github.com/middletier/middletier/blob/main/docs/connector.md",
		Categories:    []string{"Commerce", "Productivity"},
		Scopes:        []string{"access_as_user"},
		TenantID:      "common",
		BrandColor:    config.DefaultConnectorBrandColor,
		Publisher:     config.DefaultConnectorPublisher,
		StackOwner:    config.DefaultConnectorPublisher,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	set(&o.PublicURL, d.PublicURL)
	set(&o.Title, d.Title)
	set(&o.Description, d.Description)
	set(&o.Version, d.Version)
	set(&o.ContactName, d.ContactName)
	set(&o.ContactURL, d.ContactURL)
	set(&o.ContactEmail, d.ContactEmail)
	set(&o.Website, d.Website)
	set(&o.PrivacyPolicy, d.PrivacyPolicy)
	set(&o.TenantID, d.TenantID)
	set(&o.BrandColor, d.BrandColor)
	set(&o.Publisher, d.Publisher)
	set(&o.StackOwner, d.StackOwner)
	set(&o.ClientID, PlaceholderClientID)
	set(&o.ResourceURI, PlaceholderResourceURI)
	if len(o.Categories) == 0 {
		o.Categories = d.Categories
	}
	if len(o.Scopes) == 0 {
		o.Scopes = d.Scopes
	}
	return o
}

// Swagger builds the connector's Swagger 2.0 definition from the operations
// and the schema their documents were validated against. The output is
// indented JSON whose bytes depend only on the inputs (maps are written in
// key order), so it can be a golden file.
func Swagger(ops []facade.Operation, schema *ast.Schema, opts Options) ([]byte, error) {
	doc, err := build(ops, schema, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode definition: %w", err)
	}
	return append(b, '\n'), nil
}

func build(ops []facade.Operation, schema *ast.Schema, o Options) (*spec.Swagger, error) {
	if schema == nil {
		return nil, errors.New("swagger: no schema")
	}
	pu, err := url.Parse(o.PublicURL)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, fmt.Errorf("swagger: public URL %q must be an absolute http(s) URL", o.PublicURL)
	}
	if pu.RawQuery != "" || pu.Fragment != "" {
		return nil, fmt.Errorf("swagger: public URL %q must not have a query or fragment", o.PublicURL)
	}

	scopes := map[string]string{}
	for _, s := range o.Scopes {
		scopes[s] = "Act for the signed-in employee."
	}
	doc := &spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger: "2.0",
		Info: &spec.Info{InfoProps: spec.InfoProps{
			Title:       o.Title,
			Description: o.Description,
			Version:     o.Version,
			Contact: &spec.ContactInfo{ContactInfoProps: spec.ContactInfoProps{
				Name: o.ContactName, URL: o.ContactURL, Email: o.ContactEmail,
			}},
		}},
		Host:     pu.Host,
		BasePath: strings.TrimSuffix(pu.Path, "/") + facade.BasePath,
		Schemes:  []string{pu.Scheme},
		Consumes: []string{"application/json"},
		Produces: []string{"application/json"},
		Paths:    &spec.Paths{Paths: map[string]spec.PathItem{}},
		SecurityDefinitions: spec.SecurityDefinitions{securityName: &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
			Type:             "oauth2",
			Flow:             "accessCode",
			AuthorizationURL: authorizationURL,
			TokenURL:         tokenURL,
			Scopes:           scopes,
			Description:      "Microsoft Entra ID sign-in of the employee using the app.",
		}}},
		Security: []map[string][]string{{securityName: o.Scopes}},
	}}
	doc.AddExtension("x-ms-connector-metadata", []map[string]string{
		{"propertyName": "Website", "propertyValue": o.Website},
		{"propertyName": "Privacy policy", "propertyValue": o.PrivacyPolicy},
		{"propertyName": "Categories", "propertyValue": strings.Join(o.Categories, ";")},
	})

	g := &generator{schema: schema, opts: o}
	// The loader gave every operation its own operationId (its file name)
	// and route, and a method of GET or POST: each goes into its path item
	// as is.
	var errs []error
	for i := range ops {
		op := &ops[i]
		if op.ID == MCPOperationID {
			errs = append(errs, fmt.Errorf("swagger: operation %s (%s): the name is the MCP operation's; rename the file", op.ID, op.File))
			continue
		}
		sop, err := g.operation(op)
		if err != nil {
			errs = append(errs, fmt.Errorf("swagger: operation %s (%s): %w", op.ID, op.File, err))
			continue
		}
		item := doc.Paths.Paths[op.Path]
		if op.Method == "POST" {
			item.Post = sop
		} else {
			item.Get = sop
		}
		doc.Paths.Paths[op.Path] = item
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if _, taken := doc.Paths.Paths[MCPPath]; taken {
		return nil, fmt.Errorf("swagger: an operation's path is %s, the MCP operation's", MCPPath)
	}
	doc.Paths.Paths[MCPPath] = spec.PathItem{PathItemProps: spec.PathItemProps{Post: g.mcpOperation()}}
	return doc, nil
}

type generator struct {
	schema *ast.Schema
	opts   Options
}
