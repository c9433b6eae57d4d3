package scrutiny

import (
	"context"
	"math"
	"net/url"
	"sort"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Disk is one disk of the disk-intelligence listing (spec 30 §2.3).
type Disk struct {
	WWN              string  `json:"wwn"`
	Name             string  `json:"name"`
	Model            string  `json:"model"`
	Serial           string  `json:"serial"`
	Status           int     `json:"status"`
	Temp             float64 `json:"temp"`
	PowerOnHours     int64   `json:"powerOnHours"`
	RiskScore        int     `json:"riskScore"`
	GrowthRate       float64 `json:"growthRate"`
	EstimatedFailure *string `json:"estimatedFailure"`
}

// Intelligence reads every disk of Scrutiny at base (GET /api/summary, then
// GET /api/device/<wwn>/details per disk) and scores its failure risk from
// the growth of reallocated sectors (S.M.A.R.T. attribute 5), riskiest
// first. A failing details fetch scores the disk from its status alone.
func Intelligence(ctx context.Context, c *provider.Client, base string, now time.Time) ([]Disk, error) {
	var sum struct {
		Data struct {
			Summary map[string]struct {
				Device struct {
					WWN    string `json:"wwn"`
					Name   string `json:"device_name"`
					Model  string `json:"model_name"`
					Serial string `json:"serial_number"`
					Status *int   `json:"device_status"`
				} `json:"device"`
				Smart struct {
					Temp         float64 `json:"temp"`
					PowerOnHours int64   `json:"power_on_hours"`
				} `json:"smart"`
			} `json:"summary"`
		} `json:"data"`
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.JSON(sctx, provider.Request{URL: base + "/api/summary", MaxBody: 8 << 20}, &sum); err != nil {
		return nil, err
	}
	out := []Disk{}
	for wwn, s := range sum.Data.Summary {
		d := Disk{WWN: wwn, Name: s.Device.Name, Model: s.Device.Model, Serial: s.Device.Serial, Status: 3,
			Temp: s.Smart.Temp, PowerOnHours: s.Smart.PowerOnHours}
		if s.Device.Status != nil {
			d.Status = *s.Device.Status
		}
		samples, err := reallocated(ctx, c, base, wwn)
		score(&d, samples, err, now)
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].RiskScore != out[j].RiskScore {
			return out[i].RiskScore > out[j].RiskScore
		}
		return out[i].WWN < out[j].WWN
	})
	return out, nil
}

// reallocated returns the attribute-5 raw values of a disk's S.M.A.R.T. results, oldest first.
func reallocated(ctx context.Context, c *provider.Client, base, wwn string) ([]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	var det struct {
		Data struct {
			SmartResults []struct {
				Date  string `json:"date"`
				Attrs map[string]struct {
					RawValue *float64 `json:"raw_value"`
				} `json:"attrs"`
			} `json:"smart_results"`
		} `json:"data"`
	}
	if err := c.JSON(ctx, provider.Request{URL: base + "/api/device/" + url.PathEscape(wwn) + "/details", MaxBody: 16 << 20}, &det); err != nil {
		return nil, err
	}
	rs := det.Data.SmartResults
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Date < rs[j].Date })
	var vals []float64
	for _, r := range rs {
		if a, ok := r.Attrs["5"]; ok && a.RawValue != nil {
			vals = append(vals, *a.RawValue)
		}
	}
	return vals, nil
}

// score fills RiskScore, GrowthRate and EstimatedFailure (spec 30 §2.3).
func score(d *Disk, samples []float64, fetchErr error, now time.Time) {
	bad := d.Status >= 2
	switch {
	case fetchErr != nil:
		if bad {
			d.RiskScore = 20
		}
	case len(samples) >= 2 && samples[0] != samples[len(samples)-1]:
		first, last := samples[0], samples[len(samples)-1]
		d.GrowthRate = math.Round((last-first)/float64(len(samples))*10) / 10
		risk := d.GrowthRate * 10
		if bad {
			risk += 30
		}
		d.RiskScore = max(0, min(100, int(risk)))
		if d.GrowthRate > 0 {
			months := math.Max(0, 4000-last) / d.GrowthRate
			if months < 120 {
				s := now.Add(time.Duration(months*30*24) * time.Hour).UTC().Format("2006-01")
				d.EstimatedFailure = &s
			}
		}
	case len(samples) >= 2 && bad:
		d.RiskScore = 25
	}
}
