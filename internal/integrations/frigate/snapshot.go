package frigate

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// SnapshotTimeout bounds one snapshot fetch (spec 30 §2.1: 8 s) and
// MaxSnapshot its size.
const (
	SnapshotTimeout = 8 * time.Second
	MaxSnapshot     = 16 << 20
)

// CameraRE is the pattern of a camera name.
var CameraRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Snapshot fetches the latest JPEG of camera cam: GET <base>/api/<cam>/latest.jpg.
func Snapshot(ctx context.Context, c *provider.Client, base, cam string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, SnapshotTimeout)
	defer cancel()
	return c.Do(ctx, provider.Request{URL: base + "/api/" + url.PathEscape(cam) + "/latest.jpg", MaxBody: MaxSnapshot,
		Header: http.Header{"Accept": {"image/jpeg"}}})
}
