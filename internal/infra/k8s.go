package infra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/runcmd"
)

// K8s is a typed client of the Kubernetes REST API: a bearer token,
// basic auth or the client certificate of its HTTP client's TLS config.
type K8s struct {
	Base               string
	Token              string
	Username, Password string
	HTTP               *http.Client
}

// k8sNameRe is the name/namespace/container rule (RFC 1123 labels, dots allowed).
var k8sNameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

func k8sName(label, v string) error {
	if len(v) > 253 || !k8sNameRe.MatchString(v) || strings.Contains(v, "..") || strings.Contains(v, "/") {
		return httpx.Invalid("Invalid Kubernetes %s: %s", label, v)
	}
	return nil
}

// saDir holds the service account of a pod.
const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func (r *Room) k8s() (*K8s, error) {
	s := r.settings()
	base, tok := strings.TrimRight(str(s, "k8sUrl"), "/"), str(s, "k8sToken")
	if base == "" && tok == "" {
		// A kubeconfig (KUBECONFIG, else ~/.kube/config): its current context.
		k, path, err := loadKubeconfig(r.d.Kubeconfig, 15*time.Second)
		switch {
		case err == nil:
			return k, nil
		case !errors.Is(err, errNoKubeconfig):
			r.d.Log.Warn("kubeconfig unusable", "path", path, "err", err)
			return nil, httpx.Invalid("Kubernetes kubeconfig unusable: %s", err.Error())
		}
	}
	if base == "" && tok == "" && r.d.InCluster != "" {
		// In a pod: the API server of the cluster, the service account's token and CA.
		if b, err := os.ReadFile(filepath.Join(r.d.Root, saDir, "token")); err == nil && len(b) > 0 {
			ca := filepath.Join(r.d.Root, saDir, "ca.crt")
			return &K8s{Base: "https://" + r.d.InCluster, Token: strings.TrimSpace(string(b)), HTTP: httpClient(ca, 15*time.Second)}, nil
		}
	}
	if base == "" || tok == "" {
		return nil, httpx.Invalid("Kubernetes not configured")
	}
	verify, ok := s["k8sVerifySsl"]
	if !ok {
		verify = true
	}
	return &K8s{Base: base, Token: tok, HTTP: httpClient(verify, 15*time.Second)}, nil
}

// do calls the API and decodes a JSON answer into out (raw text when out is *string).
func (k *K8s) do(ctx context.Context, method, path string, q url.Values, body any, ctype string, timeout time.Duration, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := k.Base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	switch {
	case k.Token != "":
		req.Header.Set("Authorization", "Bearer "+k.Token)
	case k.Username != "":
		req.SetBasicAuth(k.Username, k.Password)
	}
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := k.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("kubernetes %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if s, ok := out.(*string); ok {
		*s = string(b)
		return nil
	}
	return json.Unmarshal(b, out)
}

type k8sMeta struct {
	Name              string `json:"name"`
	Namespace         string `json:"namespace"`
	CreationTimestamp string `json:"creationTimestamp"`
}

// Namespace is one namespace.
type Namespace struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Created string `json:"created"`
}

type infraNamespacesOut struct{ Body []Namespace }

func (r *Room) k8sNamespaces(ctx context.Context, _ *struct{}) (*infraNamespacesOut, error) {
	k, err := r.k8s()
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Metadata k8sMeta `json:"metadata"`
			Status   struct {
				Phase string `json:"phase"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := k.do(ctx, http.MethodGet, "/api/v1/namespaces", nil, nil, "", 10*time.Second, &list); err != nil {
		r.d.Log.Warn("k8s namespaces", "err", err)
		return nil, httpx.BadGateway("K8s API error")
	}
	out := &infraNamespacesOut{Body: []Namespace{}}
	for _, i := range list.Items {
		out.Body = append(out.Body, Namespace{Name: i.Metadata.Name, Status: i.Status.Phase, Created: i.Metadata.CreationTimestamp})
	}
	return out, nil
}

type infraNsIn struct {
	Namespace string `query:"namespace"`
}

// Pod is one pod.
type Pod struct {
	Name       string         `json:"name"`
	Namespace  string         `json:"namespace"`
	Node       string         `json:"node"`
	Phase      string         `json:"phase"`
	IP         string         `json:"ip"`
	Created    string         `json:"created"`
	Containers []PodContainer `json:"containers"`
}

// PodContainer is the status of one container of a pod.
type PodContainer struct {
	Name     string `json:"name"`
	Ready    bool   `json:"ready"`
	Restarts int    `json:"restarts"`
	State    string `json:"state"`
	Image    string `json:"image"`
}

type infraPodsOut struct{ Body []Pod }

func (r *Room) k8sPods(ctx context.Context, in *infraNsIn) (*infraPodsOut, error) {
	k, err := r.k8s()
	if err != nil {
		return nil, err
	}
	path := "/api/v1/pods"
	if in.Namespace != "" {
		if err := k8sName("namespace", in.Namespace); err != nil {
			return nil, err
		}
		path = "/api/v1/namespaces/" + in.Namespace + "/pods"
	}
	var list struct {
		Items []struct {
			Metadata k8sMeta `json:"metadata"`
			Spec     struct {
				NodeName string `json:"nodeName"`
			} `json:"spec"`
			Status struct {
				Phase             string `json:"phase"`
				PodIP             string `json:"podIP"`
				ContainerStatuses []struct {
					Name         string                     `json:"name"`
					Ready        bool                       `json:"ready"`
					RestartCount int                        `json:"restartCount"`
					Image        string                     `json:"image"`
					State        map[string]json.RawMessage `json:"state"`
				} `json:"containerStatuses"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := k.do(ctx, http.MethodGet, path, nil, nil, "", 10*time.Second, &list); err != nil {
		r.d.Log.Warn("k8s pods", "err", err)
		return nil, httpx.BadGateway("K8s API error")
	}
	out := &infraPodsOut{Body: []Pod{}}
	for i, p := range list.Items {
		if i >= 200 {
			break
		}
		pod := Pod{Name: p.Metadata.Name, Namespace: p.Metadata.Namespace, Node: p.Spec.NodeName, Phase: p.Status.Phase,
			IP: p.Status.PodIP, Created: p.Metadata.CreationTimestamp, Containers: []PodContainer{}}
		for _, c := range p.Status.ContainerStatuses {
			st := "unknown"
			for _, s := range []string{"running", "waiting", "terminated"} {
				if _, ok := c.State[s]; ok {
					st = s
					break
				}
			}
			pod.Containers = append(pod.Containers, PodContainer{Name: c.Name, Ready: c.Ready, Restarts: c.RestartCount, State: st, Image: c.Image})
		}
		out.Body = append(out.Body, pod)
	}
	return out, nil
}

type infraPodLogsIn struct {
	NS        string `path:"ns"`
	Name      string `path:"name"`
	Container string `query:"container"`
	Lines     string `query:"lines"`
}

type infraInfraTextOut struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

func textOut(s string) *infraInfraTextOut {
	return &infraInfraTextOut{ContentType: "text/plain; charset=utf-8", Body: []byte(s)}
}

func (r *Room) k8sPodLogs(ctx context.Context, in *infraPodLogsIn) (*infraInfraTextOut, error) {
	if err := k8sName("namespace", in.NS); err != nil {
		return nil, err
	}
	if err := k8sName("pod name", in.Name); err != nil {
		return nil, err
	}
	if in.Container != "" {
		if err := k8sName("container", in.Container); err != nil {
			return nil, err
		}
	}
	lines, err := httpx.IntParam("lines", in.Lines, 100, 1, 5000)
	if err != nil {
		return nil, err
	}
	k, err := r.k8s()
	if err != nil {
		return nil, err
	}
	q := url.Values{"tailLines": {fmt.Sprint(lines)}}
	if in.Container != "" {
		q.Set("container", in.Container)
	}
	var s string
	if err := k.do(ctx, http.MethodGet, "/api/v1/namespaces/"+in.NS+"/pods/"+in.Name+"/log", q, nil, "", 15*time.Second, &s); err != nil {
		r.d.Log.Warn("k8s logs", "err", err)
		return nil, httpx.BadGateway("K8s log fetch failed")
	}
	s = runcmd.Tail(s, 65536)
	if strings.TrimSpace(s) == "" {
		s = "No logs."
	}
	return textOut(s), nil
}

// Deployment is one deployment.
type Deployment struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Replicas  int    `json:"replicas"`
	Ready     int    `json:"ready"`
	Available int    `json:"available"`
	Updated   int    `json:"updated"`
}

type infraDeploymentsOut struct{ Body []Deployment }

func (r *Room) k8sDeployments(ctx context.Context, in *infraNsIn) (*infraDeploymentsOut, error) {
	k, err := r.k8s()
	if err != nil {
		return nil, err
	}
	path := "/apis/apps/v1/deployments"
	if in.Namespace != "" {
		if err := k8sName("namespace", in.Namespace); err != nil {
			return nil, err
		}
		path = "/apis/apps/v1/namespaces/" + in.Namespace + "/deployments"
	}
	var list struct {
		Items []struct {
			Metadata k8sMeta `json:"metadata"`
			Spec     struct {
				Replicas int `json:"replicas"`
			} `json:"spec"`
			Status struct {
				ReadyReplicas     int `json:"readyReplicas"`
				AvailableReplicas int `json:"availableReplicas"`
				UpdatedReplicas   int `json:"updatedReplicas"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := k.do(ctx, http.MethodGet, path, nil, nil, "", 10*time.Second, &list); err != nil {
		r.d.Log.Warn("k8s deployments", "err", err)
		return nil, httpx.BadGateway("K8s API error")
	}
	out := &infraDeploymentsOut{Body: []Deployment{}}
	for i, d := range list.Items {
		if i >= 100 {
			break
		}
		out.Body = append(out.Body, Deployment{Name: d.Metadata.Name, Namespace: d.Metadata.Namespace, Replicas: d.Spec.Replicas,
			Ready: d.Status.ReadyReplicas, Available: d.Status.AvailableReplicas, Updated: d.Status.UpdatedReplicas})
	}
	return out, nil
}

type infraScaleIn struct {
	NS   string `path:"ns"`
	Name string `path:"name"`
	Body map[string]any
}

type infraScaleOut struct {
	Body struct {
		Success  bool `json:"success"`
		Replicas int  `json:"replicas"`
	}
}

func (r *Room) k8sScale(ctx context.Context, in *infraScaleIn) (*infraScaleOut, error) {
	if err := k8sName("namespace", in.NS); err != nil {
		return nil, err
	}
	if err := k8sName("deployment name", in.Name); err != nil {
		return nil, err
	}
	n := 1
	if v, ok := in.Body["replicas"]; ok {
		f, isNum := v.(float64)
		if !isNum || f != float64(int(f)) || f < 0 || f > 100 {
			return nil, httpx.Invalid("Replicas must be 0-100")
		}
		n = int(f)
	}
	k, err := r.k8s()
	if err != nil {
		return nil, err
	}
	var res map[string]any
	err = k.do(ctx, http.MethodPatch, "/apis/apps/v1/namespaces/"+in.NS+"/deployments/"+in.Name+"/scale", nil,
		map[string]any{"spec": map[string]any{"replicas": n}}, "application/merge-patch+json", 10*time.Second, &res)
	if err != nil {
		r.d.Log.Warn("k8s scale", "err", err)
		return nil, httpx.BadGateway("K8s scale failed")
	}
	r.audit(ctx, "k8s_scale", fmt.Sprintf("Scaled %s/%s to %d", in.NS, in.Name, n))
	out := &infraScaleOut{}
	out.Body.Success, out.Body.Replicas = true, n
	return out, nil
}
