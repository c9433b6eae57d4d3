package errs_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/noba-go/noba/internal/errs"
	"github.com/noba-go/noba/internal/httpx"
)

// TestStoreErrorsMapToStatuses: a store's domain error reaches the HTTP
// boundary with its status and message, through either name of the kind.
func TestStoreErrorsMapToStatuses(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		msg    string
	}{
		{errs.NotFound("Monitor not found"), http.StatusNotFound, "Monitor not found"},
		{fmt.Errorf("load: %w", errs.Invalid("Bad id %d", 3)), http.StatusBadRequest, "Bad id 3"},
		{errs.Conflict("Name taken"), http.StatusConflict, "Name taken"},
		{fmt.Errorf("upstream: %w", errs.ErrUnavailable), http.StatusServiceUnavailable, "upstream: unavailable"},
		{errors.New("disk on fire"), http.StatusInternalServerError, "Internal server error"},
	} {
		st, msg := httpx.Status(c.err)
		if st != c.status || msg != c.msg {
			t.Errorf("%v: %d %q, want %d %q", c.err, st, msg, c.status, c.msg)
		}
	}
	if !errors.Is(errs.NotFound("x"), httpx.ErrNotFound) || !errors.Is(httpx.NotFound("x"), errs.ErrNotFound) {
		t.Error("httpx and errs kinds differ")
	}
}
