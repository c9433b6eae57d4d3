// Command noba is the NOBA Command Center server.
//
//	noba serve    start the server (configured by environment, see README)
//	noba version  print the version
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/server"
)

func main() {
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "serve":
		if err := serve(); err != nil {
			fmt.Fprintln(os.Stderr, "noba:", err)
			os.Exit(1)
		}
	case "version", "--version", "-v":
		fmt.Println("noba", config.Version)
	case "help", "--help", "-h":
		fmt.Println("usage: noba serve | noba version\nConfiguration is read from the environment; see README.md.")
	default:
		fmt.Fprintf(os.Stderr, "noba: unknown command %q (want serve or version)\n", cmd)
		os.Exit(2)
	}
}

func serve() error {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// NOBA_TRUSTED_PROXIES: the reverse proxies whose X-Forwarded-For is believed.
	proxies, err := httpx.ParsePrefixes(os.Getenv("NOBA_TRUSTED_PROXIES"))
	if err != nil {
		return fmt.Errorf("NOBA_TRUSTED_PROXIES: %w", err)
	}
	s, err := server.New(ctx, cfg, log, server.WithTrustedProxies(proxies))
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Run(ctx)
}
