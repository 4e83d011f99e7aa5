package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/middletier/middletier/internal/config"
	"github.com/middletier/middletier/internal/server"
)

// pendingSettings are settings that the contracts name and the manifests
// already pass, which another change adds to internal/config. They are
// allowed while absent; once config has them they are checked like any other.
var pendingSettings = map[string]string{
	"MIDDLETIER_REDIS_URL": "--redis-url, the optional shared cache (scale-out)",
}

// manifests are the objects under kubernetes/, decoded strictly.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	hpa        *autoscalingv2.HorizontalPodAutoscaler
	pdb        *policyv1.PodDisruptionBudget
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

// decodeStrict decodes one YAML document into obj; a field the type does
// not have, or a duplicate one, is an error.
func decodeStrict(doc []byte, obj any) error {
	return yaml.UnmarshalStrict(doc, obj)
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	m := manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			where := f + " document " + strconv.Itoa(i+1)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			var obj any
			switch tm.APIVersion + " " + tm.Kind {
			case "apps/v1 Deployment":
				if m.deployment != nil {
					t.Fatalf("%s: a second Deployment", where)
				}
				m.deployment = &appsv1.Deployment{}
				obj = m.deployment
			case "v1 Service":
				m.service = &corev1.Service{}
				obj = m.service
			case "autoscaling/v2 HorizontalPodAutoscaler":
				m.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
				obj = m.hpa
			case "policy/v1 PodDisruptionBudget":
				m.pdb = &policyv1.PodDisruptionBudget{}
				obj = m.pdb
			case "v1 ConfigMap":
				cm := &corev1.ConfigMap{}
				obj = cm
				defer func() { m.configMaps[cm.Name] = cm }()
			case "v1 Secret":
				s := &corev1.Secret{}
				obj = s
				defer func() { m.secrets[s.Name] = s }()
			default:
				t.Fatalf("%s: unexpected %s %s (the test knows Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget, ConfigMap and Secret)", where, tm.APIVersion, tm.Kind)
			}
			if err := decodeStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
		}
	}
	if m.deployment == nil || m.service == nil || m.hpa == nil || m.pdb == nil {
		t.Fatalf("want a Deployment, a Service, a HorizontalPodAutoscaler and a PodDisruptionBudget; got %+v", m)
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestDecodeIsStrict: the decoder the manifests go through refuses a
// misspelt field, so a typo cannot pass as a default.
func TestDecodeIsStrict(t *testing.T) {
	var d appsv1.Deployment
	if err := decodeStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n"), &d); err == nil {
		t.Fatal("a Deployment with spec.replica decoded without error")
	}
	if err := decodeStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n"), &d); err != nil || *d.Spec.Replicas != 2 {
		t.Fatalf("a valid Deployment: %v", err)
	}
}

// container is the Deployment's middletier container.
func (m manifests) container(t *testing.T) corev1.Container {
	t.Helper()
	cs := m.deployment.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("the Deployment has %d containers, want 1", len(cs))
	}
	return cs[0]
}

// env is the environment the container gets from its env and envFrom
// (values only where they are literal), by name.
func (m manifests) env(t *testing.T) (map[string]string, []string) {
	t.Helper()
	c := m.container(t)
	vals := map[string]string{}
	var names []string
	add := func(k, v string) {
		names = append(names, k)
		vals[k] = v
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, ok := m.configMaps[from.ConfigMapRef.Name]
			if !ok {
				t.Fatalf("envFrom names ConfigMap %q, which is not in kubernetes/", from.ConfigMapRef.Name)
			}
			for k, v := range cm.Data {
				add(from.Prefix+k, v)
			}
		case from.SecretRef != nil:
			s, ok := m.secrets[from.SecretRef.Name]
			if !ok {
				t.Fatalf("envFrom names Secret %q, which is not in kubernetes/", from.SecretRef.Name)
			}
			for k, v := range s.StringData {
				add(from.Prefix+k, v)
			}
			for k, v := range s.Data {
				add(from.Prefix+k, string(v))
			}
		}
	}
	for _, e := range c.Env {
		add(e.Name, e.Value)
	}
	return vals, names
}

// settingNames are the environment variables of every setting of serve,
// read from internal/config's own flag table.
func settingNames() map[string]bool {
	cfg := config.Defaults()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Flags(fs)
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { names[config.EnvName(f.Name)] = true })
	return names
}

// serviceConfig is the configuration the service would run with in the
// Deployment: the image's ENV overlaid by the manifests' environment.
func serviceConfig(t *testing.T, m manifests, img dockerfile) config.Config {
	t.Helper()
	env, _ := m.env(t)
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return img.env[k]
	}
	cfg := config.Defaults()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.Flags(fs)
	if err := config.Parse(fs, nil, getenv); err != nil {
		t.Fatalf("the manifests' settings do not parse: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the manifests' settings are not valid: %v", err)
	}
	return cfg
}

func TestEnvironmentNamesRealSettings(t *testing.T) {
	m := loadManifests(t)
	img := readDockerfile(t)
	known := settingNames()
	_, names := m.env(t)
	for name := range img.env {
		names = append(names, name)
	}
	for _, name := range names {
		switch {
		case known[name]:
		case pendingSettings[name] != "":
			t.Logf("%s is not in internal/config yet: %s", name, pendingSettings[name])
		case strings.HasPrefix(name, config.EnvPrefix):
			t.Errorf("%s is not a setting of internal/config (`middletier serve --help` lists them)", name)
		case strings.HasPrefix(name, "OTEL_"), name == "GOMEMLIMIT":
			// The OpenTelemetry SDK's and the Go runtime's own variables.
		default:
			t.Errorf("%s is neither a middletier setting nor an OTEL_* or Go runtime variable", name)
		}
	}

	// What the Deployment runs is production: no dev issuer, no demo
	// upstreams, PostgreSQL, no demo seed, every interface.
	cfg := serviceConfig(t, m, img)
	if cfg.Auth.DevMode() || cfg.Upstream.Demo() || cfg.Database.URL == "" || cfg.Database.AutoSeed || cfg.LoopbackOnly() {
		t.Errorf("the Deployment's settings: dev mode %v, demo upstreams %v, database URL set %v, auto seed %v, loopback only %v; want production (false, false, true, false, false)",
			cfg.Auth.DevMode(), cfg.Upstream.Demo(), cfg.Database.URL != "", cfg.Database.AutoSeed, cfg.LoopbackOnly())
	}
}

// TestProbesMatchTheService: the probes ask the service's real health
// endpoints, on the port it listens on, and they behave during a shutdown
// the way the drain needs: readiness fails, liveness does not.
func TestProbesMatchTheService(t *testing.T) {
	m := loadManifests(t)
	img := readDockerfile(t)
	c := m.container(t)
	cfg := serviceConfig(t, m, img)

	port := addrPort(t, cfg.Addr)
	if def := addrPort(t, config.Defaults().Addr); port != def {
		t.Errorf("the Deployment's service listens on port %d, the --addr default on %d: keep the contract's port", port, def)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != int32(port) {
		t.Errorf("container ports %+v, want one, %d (the service's --addr)", c.Ports, port)
	}
	if img.expose != port {
		t.Errorf("the Dockerfile exposes %d, the service listens on %d", img.expose, port)
	}

	stopping := make(chan struct{})
	h := server.NewHandler(cfg, server.Deps{
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		GraphQL:  http.NotFoundHandler(),
		Ready:    readyFunc(func() error { return nil }),
		Stopping: stopping,
	})
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	probes := []struct {
		name       string
		probe      *corev1.Probe
		wantPath   string
		whileDrain int
	}{
		{"liveness", c.LivenessProbe, "/healthz", http.StatusOK},
		{"readiness", c.ReadinessProbe, "/readyz", http.StatusServiceUnavailable},
		{"startup", c.StartupProbe, "", http.StatusOK},
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe: want an httpGet probe, got %+v", p.name, p.probe)
			continue
		}
		g := p.probe.HTTPGet
		if p.wantPath != "" && g.Path != p.wantPath {
			t.Errorf("%s probe asks %s, want %s", p.name, g.Path, p.wantPath)
		}
		if got := resolvePort(t, c, g.Port); got != port {
			t.Errorf("%s probe asks port %d, the service listens on %d", p.name, got, port)
		}
		if code := get(g.Path); code != http.StatusOK {
			t.Errorf("%s probe: the service answers %s with %d, want 200", p.name, g.Path, code)
		}
	}
	close(stopping)
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			continue
		}
		if code := get(p.probe.HTTPGet.Path); code != p.whileDrain {
			t.Errorf("%s probe while stopping: %s answers %d, want %d", p.name, p.probe.HTTPGet.Path, code, p.whileDrain)
		}
	}

	// Stop order: the readiness probe sees the 503 within the drain delay,
	// and the pod is killed only after drain and shutdown timeout.
	rp := c.ReadinessProbe
	if seen := time.Duration(rp.PeriodSeconds*rp.FailureThreshold) * time.Second; cfg.HTTP.DrainDelay < seen {
		t.Errorf("drain delay %s is shorter than the readiness probe needs to fail (%s)", cfg.HTTP.DrainDelay, seen)
	}
	grace := m.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second < cfg.HTTP.DrainDelay+cfg.HTTP.ShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds %v is less than drain delay %s + shutdown timeout %s", deref(grace), cfg.HTTP.DrainDelay, cfg.HTTP.ShutdownTimeout)
	}
}

type readyFunc func() error

func (f readyFunc) Ready(context.Context) error { return f() }

func TestResourcesAndSecurity(t *testing.T) {
	m := loadManifests(t)
	img := readDockerfile(t)
	cfg := serviceConfig(t, m, img)
	pod := m.deployment.Spec.Template.Spec
	c := m.container(t)

	for _, kind := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[kind]
		lim, okLim := c.Resources.Limits[kind]
		if !okReq || !okLim || req.IsZero() || req.Cmp(lim) > 0 {
			t.Errorf("%s: request %v, limit %v; want both set, request at most the limit", kind, req.String(), lim.String())
		}
	}

	psc, csc := pod.SecurityContext, c.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if csc == nil {
		t.Fatal("the container has no securityContext")
	}
	pick := func(container, pod *int64) *int64 {
		if container != nil {
			return container
		}
		return pod
	}
	uid, gid := pick(csc.RunAsUser, psc.RunAsUser), pick(csc.RunAsGroup, psc.RunAsGroup)
	if uid == nil || *uid != img.uid || gid == nil || *gid != img.gid {
		t.Errorf("runAsUser %v runAsGroup %v, want the Dockerfile's USER %d:%d", deref(uid), deref(gid), img.uid, img.gid)
	}
	nonRoot := csc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		t.Error("runAsNonRoot is not true")
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if csc.Capabilities == nil || len(csc.Capabilities.Drop) != 1 || csc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("capabilities %+v, want drop ALL", csc.Capabilities)
	}
	// With a read-only root the data directory must be a volume.
	mounted := false
	for _, vm := range c.VolumeMounts {
		if rel, err := filepath.Rel(vm.MountPath, cfg.Database.DataDir); err == nil && !strings.HasPrefix(rel, "..") && !vm.ReadOnly {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("data dir %s is on the read-only root file system: mount a volume there", cfg.Database.DataDir)
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestLabelsAndSelectorsAgree(t *testing.T) {
	m := loadManifests(t)
	d := m.deployment
	podLabels := labels.Set(d.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(podLabels) {
		t.Errorf("the Deployment's selector %v does not match its pods' labels %v (%v)", d.Spec.Selector, podLabels, err)
	}
	if s := m.service.Spec.Selector; len(s) == 0 || !labels.SelectorFromSet(s).Matches(podLabels) {
		t.Errorf("the Service selects %v, the pods are labelled %v", s, podLabels)
	}
	c := m.container(t)
	for _, p := range m.service.Spec.Ports {
		if resolvePort(t, c, p.TargetPort) == 0 {
			t.Errorf("the Service's port %s targets %s, which the container does not expose", p.Name, p.TargetPort.String())
		}
	}
	if sel, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector); err != nil || sel.Empty() || !sel.Matches(podLabels) {
		t.Errorf("the PodDisruptionBudget selects %v, the pods are labelled %v (%v)", m.pdb.Spec.Selector, podLabels, err)
	}
	ref := m.hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("the HorizontalPodAutoscaler scales %+v, want apps/v1 Deployment %s", ref, d.Name)
	}
	minReplicas := int32(1)
	if m.hpa.Spec.MinReplicas != nil {
		minReplicas = *m.hpa.Spec.MinReplicas
	}
	if minReplicas > m.hpa.Spec.MaxReplicas || len(m.hpa.Spec.Metrics) == 0 {
		t.Errorf("the HorizontalPodAutoscaler: min %d, max %d, %d metrics", minReplicas, m.hpa.Spec.MaxReplicas, len(m.hpa.Spec.Metrics))
	}
	// A budget that needs every replica the autoscaler may leave would
	// block every node drain.
	if ma := m.pdb.Spec.MinAvailable; ma == nil || ma.Type != intstr.Int || ma.IntVal >= minReplicas {
		t.Errorf("the PodDisruptionBudget's minAvailable %v must be a number below the autoscaler's minReplicas %d", ma, minReplicas)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < minReplicas {
		t.Errorf("the Deployment starts with %v replicas, fewer than the autoscaler's minimum %d", d.Spec.Replicas, minReplicas)
	}
	name := d.Labels["app.kubernetes.io/name"]
	for what, l := range map[string]map[string]string{"Service": m.service.Labels, "HorizontalPodAutoscaler": m.hpa.Labels, "PodDisruptionBudget": m.pdb.Labels} {
		if name == "" || l["app.kubernetes.io/name"] != name {
			t.Errorf("%s is labelled %v, the Deployment app.kubernetes.io/name=%s", what, l, name)
		}
	}
}

// resolvePort is the container port a probe or Service port names (by name
// or number), or 0 when the container has no such port.
func resolvePort(t *testing.T, c corev1.Container, p intstr.IntOrString) int {
	t.Helper()
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return int(cp.ContainerPort)
		}
	}
	return 0
}

func addrPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("addr %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("addr %q: %v", addr, err)
	}
	return n
}

// dockerfile is what the tests read from ../Dockerfile.
type dockerfile struct {
	from     []string // each stage's base image
	uid, gid int64
	expose   int
	env      map[string]string
	runs     []string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{env: map[string]string{}}
	// Join continuation lines, drop comments.
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	for _, line := range lines {
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			d.from = append(d.from, strings.Fields(rest)[0])
		case "USER":
			u, g, _ := strings.Cut(rest, ":")
			var err1, err2 error
			d.uid, err1 = strconv.ParseInt(u, 10, 64)
			d.gid, err2 = strconv.ParseInt(g, 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("USER %q: want a numeric uid:gid (Kubernetes checks runAsNonRoot by number)", rest)
			}
		case "EXPOSE":
			d.expose, _ = strconv.Atoi(strings.TrimSuffix(rest, "/tcp"))
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("ENV %q: use the key=value form", rest)
				}
				d.env[k] = v
			}
		case "RUN":
			d.runs = append(d.runs, rest)
		}
	}
	return d
}

func TestDockerfile(t *testing.T) {
	d := readDockerfile(t)
	if len(d.from) < 2 || !strings.HasPrefix(d.from[0], "golang:1.26") {
		t.Errorf("stages from %v, want a golang:1.26 build stage and a runtime stage", d.from)
	}
	if base := d.from[len(d.from)-1]; base != "scratch" && !strings.Contains(base, "distroless/static") {
		t.Errorf("the runtime stage is based on %s, want distroless static or scratch", base)
	}
	if d.uid == 0 || d.gid == 0 {
		t.Errorf("USER %d:%d: the image must not run as root", d.uid, d.gid)
	}
	built := false
	for _, r := range d.runs {
		built = built || strings.HasPrefix(r, "sh deploy/build.sh ")
	}
	if !built {
		t.Errorf("no RUN sh deploy/build.sh: the image would not be built the way CI checks it (RUN %v)", d.runs)
	}
	if d.expose == 0 || d.env[config.EnvName("addr")] == "" || addrPortOf(d.env[config.EnvName("addr")]) != d.expose {
		t.Errorf("EXPOSE %d and ENV %s=%q must agree", d.expose, config.EnvName("addr"), d.env[config.EnvName("addr")])
	}
}

func addrPortOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
