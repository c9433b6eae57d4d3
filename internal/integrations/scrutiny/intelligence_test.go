package scrutiny_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/scrutiny"
)

func TestIntelligenceEstimatesFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/summary":
			_, _ = w.Write([]byte(`{"data":{"summary":{"w1":{"device":{"device_name":"sda","device_status":0},"smart":{}}}}}`))
		case "/api/device/w1/details":
			// 3900 -> 3990 over 2 samples: 45/sample; (4000-3990)/45 months < 1 -> an estimate
			_, _ = w.Write([]byte(`{"data":{"smart_results":[{"date":"2024-01-01","attrs":{"5":{"raw_value":3900}}},{"date":"2024-02-01","attrs":{"5":{"raw_value":3990}}}]}}`))
		}
	}))
	defer srv.Close()
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	disks, err := scrutiny.Intelligence(context.Background(), provider.NewClient(), srv.URL, now)
	if err != nil || len(disks) != 1 {
		t.Fatalf("%v %v", disks, err)
	}
	d := disks[0]
	if d.GrowthRate != 45 || d.RiskScore != 100 || d.EstimatedFailure == nil || *d.EstimatedFailure != "2024-03" || d.Status != 0 {
		t.Errorf("disk: %+v (estimate %v)", d, d.EstimatedFailure)
	}
}

func TestIntelligenceErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow/api/summary" {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	if _, err := scrutiny.Intelligence(context.Background(), provider.NewClient(), srv.URL, time.Now()); !provider.HasStatus(err, 403) {
		t.Errorf("403: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := scrutiny.Intelligence(ctx, provider.NewClient(), srv.URL+"/slow", time.Now()); provider.Class(err) != "timeout" {
		t.Errorf("slow: %v, want a timeout", err)
	}
}
