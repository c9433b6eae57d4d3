package ops

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/noba-go/noba/internal/db/dbtest"
)

// A verify_backup request's pending row and the agent's result meet on one
// row whichever is written first — they used to race and leave a stale
// pending row beside the result.
func TestVerificationRequestAndResultMergeInEitherOrder(t *testing.T) {
	ctx := context.Background()
	s := &Store{db: dbtest.Open(t)}
	req := func(cmd string) Verification {
		return Verification{BackupPath: "/srv/" + cmd + ".tar", Hostname: "nas", VerificationType: "checksum", Status: "pending", VerifiedAt: 100}
	}
	// Request first, then result.
	if err := s.AddVerification(ctx, req("a"), "cmd-a"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteVerification(ctx, "cmd-a", "nas", "/srv/a.tar", "checksum", "ok", `{"sha256":"aa"}`, 101); err != nil {
		t.Fatal(err)
	}
	// Result first (the agent answered before the request's row was written).
	if err := s.CompleteVerification(ctx, "cmd-b", "nas", "/srv/b.tar", "checksum", "failed", `{"error":"missing"}`, 102); err != nil {
		t.Fatal(err)
	}
	if err := s.AddVerification(ctx, req("b"), "cmd-b"); err != nil {
		t.Fatal(err)
	}
	// A result without a known request and without a command id is its own row.
	if err := s.CompleteVerification(ctx, "", "nas", "/srv/c.tar", "", "ok", `{}`, 103); err != nil {
		t.Fatal(err)
	}
	// The same command id on another host is another verification.
	if err := s.AddVerification(ctx, Verification{BackupPath: "/srv/a.tar", Hostname: "pi", VerificationType: "checksum", Status: "pending", VerifiedAt: 104}, "cmd-a"); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Verifications(ctx, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vs {
		got[v.Hostname+":"+v.BackupPath] += v.Status + ";"
	}
	want := map[string]string{"nas:/srv/a.tar": "ok;", "nas:/srv/b.tar": "failed;", "nas:/srv/c.tar": "ok;", "pi:/srv/a.tar": "pending;"}
	if len(vs) != 4 || len(got) != len(want) {
		t.Fatalf("rows = %+v", vs)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q (rows %+v)", k, got[k], w, vs)
		}
	}
}

// Requests and results written at the same moment still leave one row per
// command (the interleaving that left "pending" beside "ok" in CI).
func TestVerificationRequestAndResultConcurrent(t *testing.T) {
	ctx := context.Background()
	s := &Store{db: dbtest.Open(t)}
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		cmd := fmt.Sprintf("cmd-%d", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- s.AddVerification(ctx, Verification{BackupPath: "/srv/x.tar", Hostname: "nas", VerificationType: "checksum", Status: "pending", VerifiedAt: 1}, cmd)
		}()
		go func() {
			defer wg.Done()
			errs <- s.CompleteVerification(ctx, cmd, "nas", "/srv/x.tar", "checksum", "ok", `{}`, 2)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	vs, err := s.Verifications(ctx, "nas", 10*n)
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, v := range vs {
		if v.Status != "ok" {
			pending++
		}
	}
	if len(vs) != n || pending != 0 {
		t.Errorf("%d rows for %d commands, %d not ok", len(vs), n, pending)
	}
}
