package agent

import (
	"context"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ch syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ch)
	return time.Duration(ru.Utime.Nano()+ru.Stime.Nano()+ch.Utime.Nano()+ch.Stime.Nano()) * time.Nanosecond
}

// BenchmarkBuildReport is the agent's work for one report on this host:
// CPU time (user+system, children included) per collected report.
func BenchmarkBuildReport(b *testing.B) {
	a := New(Config{Hostname: "bench", Interval: 5, DataDir: b.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	a.BuildReport(ctx, false)
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		a.BuildReport(ctx, false)
		n++
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(n)/1000, "cpu_ms/report")
}
