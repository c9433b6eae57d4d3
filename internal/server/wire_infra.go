package server

import (
	"context"
	"io"
	"net"
	"os"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/containers"
	"github.com/noba-go/noba/internal/infra"
	"github.com/noba-go/noba/internal/jobs/runner"
	"github.com/noba-go/noba/internal/ops"
	"github.com/noba-go/noba/internal/runcmd"
)

// infraRooms holds the rooms of containers, infrastructure and operations
// (routers 5, 7, 15).
type infraRooms struct {
	containers *containers.Room
	infra      *infra.Room
	ops        *ops.Room
}

// InfraOptions are the injection points of the infra rooms (tests).
type InfraOptions struct {
	// Runner replaces the host command runner (recorded tool outputs).
	Runner runcmd.Runner
	// DockerHost is the engine address used when the dockerHost setting is
	// empty (default: the DOCKER_HOST environment variable).
	DockerHost string
	// K8sInCluster is the in-cluster Kubernetes API address (default: from
	// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT).
	K8sInCluster string
	// SysRoot prefixes the /sys paths the rooms read (fixture trees).
	SysRoot string
	// Kubeconfig is the kubeconfig file list (default: the KUBECONFIG
	// environment variable, else ~/.kube/config).
	Kubeconfig string
}

// WithKubeconfig sets the kubeconfig file(s) the Kubernetes routes read.
func WithKubeconfig(path string) Option { return func(o *Options) { o.Infra.Kubeconfig = path } }

// WithInfraRunner makes the infra rooms run host tools through run.
func WithInfraRunner(run runcmd.Runner) Option { return func(o *Options) { o.Infra.Runner = run } }

// WithInfraSysRoot makes the infra rooms read /sys below root.
func WithInfraSysRoot(root string) Option { return func(o *Options) { o.Infra.SysRoot = root } }

// WithK8sInCluster sets the in-cluster Kubernetes API address (host:port).
func WithK8sInCluster(addr string) Option { return func(o *Options) { o.Infra.K8sInCluster = addr } }

// WithDockerHost sets the default container engine address.
func WithDockerHost(host string) Option { return func(o *Options) { o.Infra.DockerHost = host } }

// wireInfra builds and mounts containers, infrastructure and operations
// (routers 5, 7, 15). It runs after the core rooms are built.
func (rs *rooms) wireInfra(ctx context.Context, s *Server) error {
	_ = ctx
	run := s.Opts.Infra.Runner
	if run == nil {
		run = runcmd.Exec{}
	}
	dockerHost := s.Opts.Infra.DockerHost
	if dockerHost == "" {
		// The Docker client convention: DOCKER_HOST names the engine.
		dockerHost = os.Getenv("DOCKER_HOST")
	}
	inCluster := s.Opts.Infra.K8sInCluster
	if h, p := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT"); inCluster == "" && h != "" && p != "" {
		inCluster = net.JoinHostPort(h, p)
	}
	kubeconfig := s.Opts.Infra.Kubeconfig
	if kubeconfig == "" {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	cd := containers.Deps{Settings: s.Settings, Audit: rs.audit,
		Log: s.Log.With("room", "containers"), Runner: run, DefaultHost: dockerHost}
	if rs.automations != nil {
		// Image pulls are runs of the job runner (/api/runs/{id}).
		cd.Runs = jobRuns{rs.automations.Runner()}
	}
	rs.containers = containers.New(cd)
	s.mount(rs.containers)

	// infrastructure (router 7): network_discover results are stored as
	// devices whichever way they arrive.
	rs.infra = infra.New(infra.Deps{DB: s.DB, Settings: s.Settings, Audit: rs.audit, Stats: rs.stats, Agents: rs.agents,
		Runner: run, Log: s.Log.With("room", "infra"), Now: s.Opts.Now, CORSOrigins: s.Cfg.CORSOrigins, Root: s.Opts.Infra.SysRoot, IsRoot: ops.IsRoot(), InCluster: inCluster, Kubeconfig: kubeconfig})
	rs.agents.OnResult("network_discover", rs.infra.OnDiscoverResult)
	s.mount(rs.infra)

	// operations (router 15): discovery and backup verification results
	// arrive through the agents room's result hooks.
	rs.ops = ops.New(ops.Deps{DB: s.DB, Settings: s.Settings, Audit: rs.audit, Stats: rs.stats, Agents: rs.agents,
		Runner: run, Log: s.Log.With("room", "ops"), Now: s.Opts.Now, Version: config.Version,
		RepoDir: os.Getenv("NOBA_REPO_DIR"), IsRoot: ops.IsRoot(), Root: s.Opts.Infra.SysRoot})
	rs.agents.OnResult("container_list", rs.ops.OnContainerList)
	rs.agents.OnResult("discover_services", rs.ops.OnDiscoverServices)
	rs.agents.OnResult("verify_backup", rs.ops.OnVerifyResult)
	s.mount(rs.ops)
	return nil
}

// jobRuns submits in-process work (image pulls) to the job runner: the
// work's output is the run's output, its error the run's failure.
type jobRuns struct{ run *runner.Runner }

func (j jobRuns) Submit(ctx context.Context, trigger, by string, work func(ctx context.Context) (string, error)) (int64, error) {
	return j.run.Submit(ctx, runner.Spec{Trigger: trigger, TriggeredBy: by, Func: func(ctx context.Context, out io.Writer) (int, error) {
		text, err := work(ctx)
		if text != "" {
			_, _ = io.WriteString(out, text)
		}
		if err != nil {
			return 1, err
		}
		return 0, nil
	}})
}
