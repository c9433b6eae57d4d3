package servertest

// Stop ends the server now, as a crash would for its clients: open
// connections (agent WebSockets, SSE streams) are cut, the jobs stop and
// the server is closed (its replica leaves the cluster). The test's
// cleanup then has nothing left to do.
func (e *Env) Stop() {
	e.HTTP.CloseClientConnections()
	e.HTTP.Close()
	e.cancel()
	<-e.done
	e.Server.Close()
}
