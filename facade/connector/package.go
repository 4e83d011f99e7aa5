package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/middletier/middletier/facade"
)

// The files of a connector package, named as paconn and pac connector
// expect them (CONNECTOR.md §4).
const (
	DefinitionFile = "apiDefinition.swagger.json"
	PropertiesFile = "apiProperties.json"
	SettingsFile   = "settings.json"
	IconFile       = "icon.png"
)

// Connection sign-in values for the "aad" identity provider (CONNECTOR.md §3).
const (
	entraLoginURI = "https://login.microsoftonline.com"
	// With GlobalPerConnector the service assigns each connector its own
	// redirect URL below this one after creation; it goes on the Entra app.
	consentRedirectURL = "https://global.consent.azure-apim.net/redirect"
)

// ExportPackage writes the connector package into dir (created if missing):
// apiDefinition.swagger.json, apiProperties.json, settings.json and icon.png.
// It needs no database and no running service.
func ExportPackage(dir string, ops []facade.Operation, schema *ast.Schema, opts Options) error {
	opts = opts.withDefaults()
	def, err := Swagger(ops, schema, opts)
	if err != nil {
		return err
	}
	props, err := APIProperties(ops, opts)
	if err != nil {
		return err
	}
	icon, err := Icon(opts.BrandColor)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for name, b := range map[string][]byte{
		DefinitionFile: def,
		PropertiesFile: props,
		SettingsFile:   Settings(opts),
		IconFile:       icon,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}

// The apiProperties.json shapes, in the key order of the real files.
type (
	apiPropertiesFile struct {
		Properties apiProperties `json:"properties"`
	}
	apiProperties struct {
		ConnectionParameters map[string]any `json:"connectionParameters"`
		IconBrandColor       string         `json:"iconBrandColor"`
		Capabilities         []string       `json:"capabilities"`
		// Policies rewrite requests and answers inside the connector runtime.
		Policies   []policyTemplateInstance `json:"policyTemplateInstances,omitempty"`
		Publisher  string                   `json:"publisher,omitempty"`
		StackOwner string                   `json:"stackOwner,omitempty"`
	}
	oauthParameter struct {
		Type          string        `json:"type"`
		OAuthSettings oauthSettings `json:"oAuthSettings"`
	}
	oauthSettings struct {
		IdentityProvider string            `json:"identityProvider"`
		ClientID         string            `json:"clientId"`
		Scopes           []string          `json:"scopes"`
		RedirectMode     string            `json:"redirectMode"`
		RedirectURL      string            `json:"redirectUrl"`
		Properties       map[string]any    `json:"properties"`
		CustomParameters map[string]valueV `json:"customParameters"`
	}
	valueV struct {
		Value string `json:"value"`
	}
	policyTemplateInstance struct {
		TemplateID string         `json:"templateId"`
		Title      string         `json:"title"`
		Parameters map[string]any `json:"parameters"`
	}
)

// Policy template ids and parameters (paconn-apiProperties.schema.json).
const (
	UpdateNextLinkTemplate = "updatenextlink"
	policyOperationNames   = "x-ms-apimTemplate-operationName"
	policyNextLinkProperty = "x-ms-apimTemplateParameter.nextLinkPropertyName"
)

// updateNextLink is the policy that makes Power Automate's pagination work.
// Without it a flow fetches the absolute nextLink directly, WITHOUT the
// connection's token, and every second page is a 401 (CONNECTOR.md §10,
// PowerPlatformConnectors #2959); with it the runtime routes the next page
// through the connector, authenticated. It names exactly the pageable
// operations, derived from the operations so a new paged one is covered.
func updateNextLink(ops []facade.Operation) (policyTemplateInstance, bool) {
	var ids []string
	for _, op := range ops {
		if op.Paged {
			ids = append(ids, op.ID)
		}
	}
	if len(ids) == 0 {
		return policyTemplateInstance{}, false
	}
	slices.Sort(ids)
	return policyTemplateInstance{
		TemplateID: UpdateNextLinkTemplate,
		Title:      "Route nextLink through the connector so that paging stays signed in",
		Parameters: map[string]any{
			policyOperationNames:   ids,
			policyNextLinkProperty: facade.NextLinkProperty,
		},
	}, true
}

var brandColorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// APIProperties is apiProperties.json for ops: an Entra ID ("aad") OAuth
// connection parameter named token, as paconn requires for --secret, plus the
// hidden token:TenantId parameter the portal adds (CONNECTOR.md §3), and the
// updatenextlink policy over the pageable operations. The client secret never
// goes in the file: paconn create --secret supplies it.
func APIProperties(ops []facade.Operation, opts Options) ([]byte, error) {
	o := opts.withDefaults()
	if !brandColorRE.MatchString(o.BrandColor) {
		return nil, fmt.Errorf("apiProperties: brand color %q is not #RRGGBB", o.BrandColor)
	}
	switch strings.ToLower(o.BrandColor) {
	case "#007ee5", "#ffffff", "#da3b01":
		// Reserved: Microsoft's default blue, white, and the independent
		// publisher colour (PowerPlatformConnectors README).
		return nil, fmt.Errorf("apiProperties: brand color %s is reserved; pick another", o.BrandColor)
	}
	scopes := o.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	f := apiPropertiesFile{Properties: apiProperties{
		ConnectionParameters: map[string]any{
			"token": oauthParameter{
				Type: "oauthSetting",
				OAuthSettings: oauthSettings{
					IdentityProvider: "aad",
					ClientID:         o.ClientID,
					Scopes:           scopes,
					RedirectMode:     "GlobalPerConnector",
					RedirectURL:      consentRedirectURL,
					Properties: map[string]any{
						"IsFirstParty":                   "False",
						"AzureActiveDirectoryResourceId": o.ResourceURI,
						"IsOnbehalfofLoginSupported":     false,
					},
					CustomParameters: map[string]valueV{
						"loginUri":              {entraLoginURI},
						"tenantId":              {o.TenantID},
						"resourceUri":           {o.ResourceURI},
						"enableOnbehalfOfLogin": {"false"},
					},
				},
			},
			"token:TenantId": map[string]any{
				"type":     "string",
				"metadata": map[string]string{"sourceType": "AzureActiveDirectoryTenant"},
				"uiDefinition": map[string]any{
					"constraints": map[string]string{"required": "false", "hidden": "true"},
				},
			},
		},
		IconBrandColor: strings.ToLower(o.BrandColor),
		Capabilities:   []string{"actions"},
		Publisher:      o.Publisher,
		StackOwner:     o.StackOwner,
	}}
	if p, ok := updateNextLink(ops); ok {
		f.Properties.Policies = append(f.Properties.Policies, p)
	}
	return marshalFile(f)
}

// Settings is paconn's settings.json: the file names of the package, the
// API endpoints with paconn's defaults, and the environment when known.
// connectorId is left out: it exists only after the first create.
func Settings(opts Options) []byte {
	o := opts.withDefaults()
	s := struct {
		Environment         string `json:"environment,omitempty"`
		APIProperties       string `json:"apiProperties"`
		APIDefinition       string `json:"apiDefinition"`
		Icon                string `json:"icon"`
		PowerAppsURL        string `json:"powerAppsUrl"`
		PowerAppsAPIVersion string `json:"powerAppsApiVersion"`
		FlowURL             string `json:"flowUrl"`
		FlowAPIVersion      string `json:"flowApiVersion"`
	}{o.Environment, PropertiesFile, DefinitionFile, IconFile, "https://api.powerapps.com", "2016-11-01", "https://api.flow.microsoft.com", "2016-11-01"}
	b, err := marshalFile(s)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return b
}

func marshalFile(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// IconSize is the icon's width and height: certification asks for a logo
// of about 160x160 inside a 230x230 PNG on a non-transparent, non-white
// background of the brand colour (CONNECTOR.md §5).
const IconSize = 230

// Icon draws the connector icon: the brand colour with a white mark of three
// stacked tiers, the middle one full width.
func Icon(brandColor string) ([]byte, error) {
	if !brandColorRE.MatchString(brandColor) {
		return nil, fmt.Errorf("icon: brand color %q is not #RRGGBB", brandColor)
	}
	v, _ := strconv.ParseUint(brandColor[1:], 16, 32)
	bg := color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	img := image.NewNRGBA(image.Rect(0, 0, IconSize, IconSize))
	for y := range IconSize {
		for x := range IconSize {
			img.SetNRGBA(x, y, bg)
		}
	}
	// Three rounded bars within the central 160x160 logo area.
	const barH, gap, radius = 36, 18, 18
	top := (IconSize - 3*barH - 2*gap) / 2
	widths := []int{112, 160, 112}
	for i, w := range widths {
		x0, y0 := (IconSize-w)/2, top+i*(barH+gap)
		for y := y0; y < y0+barH; y++ {
			for x := x0; x < x0+w; x++ {
				if inRoundedRect(x, y, x0, y0, w, barH, radius) {
					img.SetNRGBA(x, y, white)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("icon: %w", err)
	}
	return buf.Bytes(), nil
}

func inRoundedRect(x, y, x0, y0, w, h, r int) bool {
	cx := min(max(x, x0+r), x0+w-r-1)
	cy := min(max(y, y0+r), y0+h-r-1)
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= r*r
}
