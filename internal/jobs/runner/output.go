package runner

import (
	"bytes"
	"strings"
	"sync"
)

// truncMark ends an output that reached the cap.
const truncMark = "\n[output truncated]\n"

// capBuffer collects a job's merged output line by line: a line holding
// carriage returns keeps only its last non-blank \r-segment (progress
// bars); once the cap is reached the prefix that fits is kept, the
// truncation mark appended, and the rest discarded (still drained, so the
// process never blocks on a full pipe).
type capBuffer struct {
	mu      sync.Mutex
	cap     int
	buf     bytes.Buffer
	partial []byte
	full    bool
}

func newCapBuffer(limit int) *capBuffer { return &capBuffer{cap: limit} }

// Write implements io.Writer.
func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	for len(p) > 0 && !b.full {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.partial = append(b.partial, p...)
			if len(b.partial) > b.cap {
				b.addLocked(string(b.partial))
				b.partial = nil
			}
			break
		}
		line := append(b.partial, p[:i+1]...)
		b.partial = nil
		b.addLocked(string(line))
		p = p[i+1:]
	}
	return n, nil
}

// Flush adds a last line without a newline.
func (b *capBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.partial) > 0 && !b.full {
		b.addLocked(string(b.partial))
	}
	b.partial = nil
}

// Append adds text after the output (not subject to the cap).
func (b *capBuffer) Append(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *capBuffer) addLocked(line string) {
	if strings.Contains(line, "\r") {
		nl := strings.HasSuffix(line, "\n")
		segs := strings.Split(strings.TrimSuffix(line, "\n"), "\r")
		line = ""
		for i := len(segs) - 1; i >= 0; i-- {
			if strings.TrimSpace(segs[i]) != "" {
				line = segs[i]
				break
			}
		}
		if nl {
			line += "\n"
		}
	}
	if b.buf.Len()+len(line) > b.cap {
		b.buf.WriteString(line[:b.cap-b.buf.Len()])
		b.buf.WriteString(truncMark)
		b.full = true
		return
	}
	b.buf.WriteString(line)
}

// String returns the output so far.
func (b *capBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
