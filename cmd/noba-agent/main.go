// Command noba-agent reports a host's metrics to a NOBA server and runs the
// commands the server sends it: over the agent WebSocket when it can, else
// through its HTTP reports. One static binary per OS and architecture.
//
// Configuration: flags, then the config file (--config, YAML), then the
// environment (NOBA_SERVER, NOBA_AGENT_KEY, NOBA_AGENT_INTERVAL,
// NOBA_AGENT_HOSTNAME, NOBA_AGENT_TAGS), then defaults. The agent itself
// lives in internal/agent; this is its main and wiring.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/noba-go/noba/internal/agent"
	"github.com/noba-go/noba/internal/wire"
)

func main() {
	// A small, mostly idle heap: collect more eagerly than the default.
	debug.SetGCPercent(50)
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("noba-agent", flag.ContinueOnError)
	var f agent.Flags
	fs.StringVar(&f.Server, "server", "", "NOBA server base URL (http(s)://host:port)")
	fs.StringVar(&f.Key, "key", "", "agent key")
	fs.IntVar(&f.Interval, "interval", 0, "report interval in seconds (default 30)")
	fs.StringVar(&f.Hostname, "hostname", "", "hostname to report as (default: the OS hostname)")
	fs.StringVar(&f.Config, "config", agent.DefaultConfigPath(), "config file (YAML)")
	fs.StringVar(&f.DataDir, "data-dir", "", "directory for backups and state (default ~/.noba-agent)")
	once := fs.Bool("once", false, "send one report and exit (0 on success)")
	dry := fs.Bool("dry-run", false, "collect once, print the report as JSON and exit")
	version := fs.Bool("version", false, "print the version and exit")
	noWS := fs.Bool("no-ws", false, "do not open the agent WebSocket (HTTP reports only)")
	verbose := fs.Bool("debug", false, "verbose logging")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version {
		fmt.Println("NOBA Agent " + wire.AgentVersion)
		return 0
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := agent.LoadConfig(f, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := agent.New(cfg, log)
	if *dry {
		b, _ := json.MarshalIndent(a.BuildReport(ctx, true), "", "  ")
		fmt.Println(string(b))
		return 0
	}
	if cfg.Server == "" {
		fmt.Fprintln(os.Stderr, "Error: --server or NOBA_SERVER required")
		return 1
	}
	if *once {
		if err := a.ReportOnce(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			return 1
		}
		return 0
	}
	a.NoWS = *noWS
	return a.Run(ctx)
}
