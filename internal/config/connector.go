package config

import (
	"errors"
	"flag"
	"fmt"
	"regexp"
)

// Connector configures the Power Platform connector the service publishes
// (GET /api/v1/swagger.json and `middletier connector export`). Host,
// schemes and base path come from Config.PublicURL, or follow the request.
type Connector struct {
	// Title is the connector's display name in Power Apps and Power
	// Automate: at most 30 characters, without "API" or "Connector".
	Title string
	// ClientID is the application (client) id of the connector's own Entra
	// ID app registration, the one the connection signs in with. Empty
	// writes a placeholder to fill in before import.
	ClientID string
	// ResourceURI is the token audience the connection asks for: the
	// middletier API's application ID URI. Empty uses the first api:// entry
	// of Auth.Audiences (else the first audience, else a placeholder).
	ResourceURI string
	// Tenant is the Entra ID tenant the connection signs in to; empty uses
	// Auth.TenantID, else "common".
	Tenant string
	// Scopes are the delegated scopes the connection asks for; empty uses
	// Auth.WriteScopes so that every operation, writes included, works.
	Scopes []string
	// BrandColor is the icon background, #RRGGBB.
	BrandColor string
	// Publisher names who publishes the connector (also its stack owner).
	Publisher string
	// Environment is the Power Platform environment id written to
	// settings.json for paconn (GUID or Default-GUID); optional.
	Environment string
}

// Connector defaults. facade/connector's DefaultOptions fills a zero
// Options with the same values, so they are written once, here: config is
// the lower package (the executor imports it, the publisher's tests import
// the executor), and the --help defaults are then what a zero Options
// publishes anyway.
const (
	DefaultConnectorTitle      = "Middletier"
	DefaultConnectorBrandColor = "#1f6f8b"
	DefaultConnectorPublisher  = "Middletier"
)

func defaultConnector() Connector {
	return Connector{Title: DefaultConnectorTitle, BrandColor: DefaultConnectorBrandColor, Publisher: DefaultConnectorPublisher}
}

func (c *Connector) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Title, "connector-title", c.Title, "connector display name: at most 30 characters, no \"API\" or \"Connector\"")
	fs.StringVar(&c.ClientID, "client-id", c.ClientID, "connector: application (client) id of the connector's Entra ID app registration (empty writes a placeholder)")
	fs.StringVar(&c.ResourceURI, "resource-uri", c.ResourceURI, "connector: the API's application ID URI the connection asks a token for (empty: the api:// entry of --auth-audiences)")
	fs.StringVar(&c.Tenant, "tenant", c.Tenant, "connector: Entra ID tenant the connection signs in to (empty: --auth-tenant-id, else common)")
	listFlag(fs, &c.Scopes, "connector-scopes", "connector: comma-separated delegated scopes the connection asks for (empty: --auth-write-scopes)")
	fs.StringVar(&c.BrandColor, "connector-brand-color", c.BrandColor, "connector icon background, #RRGGBB (not #007ee5, #ffffff or #da3b01)")
	fs.StringVar(&c.Publisher, "connector-publisher", c.Publisher, "connector publisher and stack owner")
	fs.StringVar(&c.Environment, "connector-environment", c.Environment, "Power Platform environment id written to the package's settings.json (optional)")
}

var (
	brandColorRE  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	environmentRE = regexp.MustCompile(`^(Default-)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	titleBannedRE = regexp.MustCompile(`(?i)\b(api|connector)\b`)
)

func (c Connector) validate() []error {
	var errs []error
	if c.Title == "" || len(c.Title) > 30 || titleBannedRE.MatchString(c.Title) {
		errs = append(errs, fmt.Errorf("connector-title must be 1 to 30 characters without \"API\" or \"Connector\", got %q", c.Title))
	}
	if !brandColorRE.MatchString(c.BrandColor) {
		errs = append(errs, fmt.Errorf("connector-brand-color must be #RRGGBB, got %q", c.BrandColor))
	}
	switch c.BrandColor {
	case "#007ee5", "#007EE5", "#ffffff", "#FFFFFF", "#da3b01", "#DA3B01":
		errs = append(errs, errors.New("connector-brand-color must not be #007ee5, #ffffff or #da3b01 (reserved by Power Platform)"))
	}
	if c.Environment != "" && !environmentRE.MatchString(c.Environment) {
		errs = append(errs, fmt.Errorf("connector-environment must be a GUID or Default-GUID, got %q", c.Environment))
	}
	return errs
}
