package influx_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/influx"
	"github.com/noba-go/noba/internal/integrations/provider"
)

// fluxCSV is what InfluxDB 2 answers (two tables with their own header,
// a quoted field containing a comma).
const fluxCSV = ",result,table,_time,_value,host\r\n" +
	",_result,0,2024-01-01T00:00:00Z,1.5,\"web,1\"\r\n" +
	",_result,0,2024-01-01T00:01:00Z,2.5,web2\r\n" +
	"\r\n" +
	",result,table,_time,_value,region\r\n" +
	",_result,1,2024-01-01T00:00:00Z,7,eu\r\n"

func TestFluxQuery(t *testing.T) {
	var gotBody, gotAuth, gotCT, gotOrg, gotAccept string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/query" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		gotBody, gotAuth, gotCT, gotOrg, gotAccept = string(b), r.Header.Get("Authorization"), r.Header.Get("Content-Type"),
			r.URL.Query().Get("org"), r.Header.Get("Accept")
		w.Header().Set("Content-Type", "text/csv")
		_, _ = io.WriteString(w, fluxCSV)
	}))
	defer srv.Close()
	q := `from(bucket:"noba") |> range(start: -1h)`
	rows, err := influx.Query(context.Background(), provider.NewClient(), srv.URL, "tok-secret", "my org", q)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"_time": "2024-01-01T00:00:00Z", "_value": "1.5", "host": "web,1"},
		{"_time": "2024-01-01T00:01:00Z", "_value": "2.5", "host": "web2"},
		{"_time": "2024-01-01T00:00:00Z", "_value": "7", "region": "eu"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %v, want %v", rows, want)
	}
	if gotBody != q || gotAuth != "Token tok-secret" || gotCT != "application/vnd.flux" || gotOrg != "my org" || gotAccept != "application/csv" {
		t.Errorf("request: body %q auth %q ct %q org %q accept %q", gotBody, gotAuth, gotCT, gotOrg, gotAccept)
	}
}

func TestRowsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(",result,table,v\n")
	for i := 0; i < 3000; i++ {
		b.WriteString(",_result,0,1\n")
	}
	rows, err := influx.ParseCSV([]byte(b.String()))
	if err != nil || len(rows) != influx.MaxRows {
		t.Errorf("got %d rows, %v; want %d", len(rows), err, influx.MaxRows)
	}
}

func TestV3NoFlux(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := influx.Query(context.Background(), provider.NewClient(), srv.URL, "t", "", "from(bucket:\"x\")")
	if !errors.Is(err, influx.ErrNoFlux) {
		t.Errorf("err = %v, want ErrNoFlux", err)
	}
}

func TestSQLQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.URL.Path != "/api/v3/query_sql" || r.Header.Get("Authorization") != "Bearer t3" || body["q"] != "SELECT 1" || body["format"] != "json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `[{"a":1},{"a":2}]`)
	}))
	defer srv.Close()
	rows, err := influx.Query(context.Background(), provider.NewClient(), srv.URL, "t3", "", "SELECT 1")
	if err != nil || len(rows) != 2 || rows[1]["a"] != float64(2) {
		t.Errorf("rows = %v, %v", rows, err)
	}
}

func TestErrorsAndTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Token slow" {
			time.Sleep(500 * time.Millisecond)
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	_, err := influx.Query(context.Background(), provider.NewClient(), srv.URL, "bad", "", "x |> y")
	if provider.Class(err) != "unauthorized" {
		t.Errorf("401: class %q (%v), want unauthorized", provider.Class(err), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = influx.Query(ctx, provider.NewClient(), srv.URL, "slow", "", "x |> y")
	if provider.Class(err) != "timeout" {
		t.Errorf("slow: class %q (%v), want timeout", provider.Class(err), err)
	}
}
