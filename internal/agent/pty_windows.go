//go:build windows

package agent

import "errors"

// ptySession is not available on Windows.
type ptySession struct{}

func openPTY(_ *Agent, _, _ string, _, _ int) (*ptySession, error) {
	return nil, errors.New("Terminal sessions are not supported on Windows agents")
}

func (p *ptySession) pump(_ *Agent) int { return 0 }
func (p *ptySession) write(string)      {}
func (p *ptySession) resize(int, int)   {}
func (p *ptySession) terminate()        {}
