package esdb_test

// This file is a stand-in for a KurrentDB/EventStoreDB server, for tests
// only. No KurrentDB server can be installed on the development machines
// or in CI, so without it the backend would never send a byte. It is NOT
// a KurrentDB server and proves nothing about one; TestConformance (with
// CUSTOS_ESDB_URL) is the test against a real server.

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// standIn is an in-process stand-in for a single KurrentDB node, which
// cannot run here. It serves, over plain gRPC (tls=false) on a 127.0.0.1
// port, the services of the .proto files the client module ships
// (protos/streams, protos/serverfeatures), registered with the module's
// own generated Register...Server functions, so the real client library
// talks to it exactly as it would to a server. It implements only what
// the backend uses, following the server's documented semantics and its
// gRPC handlers (Streams.Append, the Read enumerators, the index writer's
// commit check):
//
//   - ServerFeatures.GetSupportedMethods, which the client calls when it
//     connects. Gossip is not served: a single-node esdb:// connection
//     does not use it.
//   - Streams.Append with expected revision any, no_stream,
//     stream_exists or an exact revision. A wrong one is answered, as the
//     server does, with a successful call carrying WrongExpectedVersion
//     (expected and current revision, in both the current and the 20.6.0
//     fields). Idempotency as KurrentDB documents it: the same event ids
//     appended again with the same expected revision succeed without
//     being stored twice, answered with the revision of the events
//     already stored; if only some of them are stored there, the append
//     is a WrongExpectedVersion. With any/stream_exists an append whose
//     every id is already in the stream is idempotent too (the server
//     remembers recent ids only; the stand-in remembers all). The "type"
//     and "content-type" properties are required, and an append larger
//     than MaxAppendSize (1 MiB by default; each event counted as data +
//     metadata + 2 x type length) is refused with InvalidArgument and the
//     server's "maximum-append-size-exceeded" exception, as the server
//     refuses it.
//   - Streams.Read of one stream, forwards or backwards, from a revision,
//     the start or the end, with a count; a stream without events answers
//     stream_not_found. A metadata stream ("$$name") keeps only its last
//     event, as the server's $maxCount of 1 for metadata streams does.
//     Events carry the system properties type, content-type and created.
//
// Not implemented, because the backend never uses them: $all reads,
// subscriptions, filters, link resolution, deletes and tombstones,
// BatchAppend, access control, $maxCount/$maxAge/$tb on user streams,
// clustering, leader redirection, TLS. Events live in memory, durable
// only for the stand-in's life (across stop and start).
//
// Faults are injected per stream, once each: a connection dropped before
// or after an append is written (never answered), a concurrent write just
// before an append is decided, a connection dropped in the middle of a
// read; and the whole server can be stopped and started again on the
// same port with its events.
type standIn struct {
	t    testing.TB
	addr string

	mu            sync.Mutex
	maxAppendSize int // the server's limit on one append, in its measure (above)
	streams       map[string][]*storedEvent
	ids           map[uuid.UUID]idRef
	logPos        uint64
	faults        []*fault

	srvMu sync.Mutex
	srv   *grpc.Server
	lis   *trackingListener
}

type storedEvent struct {
	id          uuid.UUID
	typ         string
	json        bool
	data, meta  []byte
	created     int64 // .NET ticks (100 ns) since the Unix epoch
	rev, logPos uint64
}

type idRef struct {
	stream string
	rev    uint64
}

// fault is one injected failure; it fires once, on the named stream.
type fault struct {
	kind   faultKind
	stream string
	n      int    // faultDropMidRead: events sent before the drop
	fn     func() // faultBeforeDecide: run before the append is decided
	fired  chan struct{}
}

type faultKind int

const (
	faultDropBeforeWrite faultKind = iota
	faultDropAfterWrite
	faultBeforeDecide
	faultDropMidRead
)

const defaultMaxAppendSize = 1 << 20

// newStandIn starts a stand-in on a free 127.0.0.1 port; it is stopped
// when the test ends.
func newStandIn(t testing.TB) *standIn {
	t.Helper()
	s := &standIn{t: t, maxAppendSize: defaultMaxAppendSize, streams: map[string][]*storedEvent{}, ids: map[uuid.UUID]idRef{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	s.serve(l)
	t.Cleanup(s.stop)
	return s
}

// url is the connection string for the backend, in the form the --log
// flag takes.
func (s *standIn) url() string {
	return "esdb://" + s.addr + "?tls=false"
}

func (s *standIn) serve(l net.Listener) {
	tl := &trackingListener{Listener: l, conns: map[string]net.Conn{}}
	srv := grpc.NewServer(
		// The client pings every 10 s even when idle; the server accepts
		// that (grpc-go's default policy would answer with GOAWAY).
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
	)
	api.RegisterStreamsServer(srv, &streamsService{s: s})
	serverfeatures.RegisterServerFeaturesServer(srv, &featuresService{})
	s.srvMu.Lock()
	s.srv, s.lis = srv, tl
	s.srvMu.Unlock()
	go srv.Serve(tl)
}

// stop stops the server as a crash would: every connection is cut and
// calls in flight get no answer. The events stay for start.
func (s *standIn) stop() {
	s.srvMu.Lock()
	srv, tl := s.srv, s.lis
	s.srv, s.lis = nil, nil
	s.srvMu.Unlock()
	if srv == nil {
		return
	}
	tl.Close()
	tl.closeAll()
	srv.Stop()
}

// start serves again on the same address, with the events it had.
func (s *standIn) start() {
	s.t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("stand-in: listening again on %s: %v", s.addr, err)
	}
	s.serve(l)
}

// inject arms a fault and returns a channel closed when it fires (before
// the client can see its effect).
func (s *standIn) inject(f *fault) <-chan struct{} {
	f.fired = make(chan struct{})
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
	return f.fired
}

// take removes and returns the armed fault of that kind for stream.
func (s *standIn) take(kind faultKind, stream string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.kind == kind && f.stream == stream {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return f
		}
	}
	return nil
}

// dropConn cuts the TCP connection a call came on, without an answer.
func (s *standIn) dropConn(ctx context.Context) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		s.t.Errorf("stand-in: no peer for the call whose connection is to be dropped")
		return
	}
	s.srvMu.Lock()
	tl := s.lis
	s.srvMu.Unlock()
	if tl != nil {
		tl.drop(p.Addr.String())
	}
}

// setMaxAppendSize sets the server's MaxAppendSize.
func (s *standIn) setMaxAppendSize(n int) {
	s.mu.Lock()
	s.maxAppendSize = n
	s.mu.Unlock()
}

// events returns a copy of a stream's events, for tests that look at what
// the "server" holds without going through the client.
func (s *standIn) events(stream string) []storedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storedEvent, len(s.streams[stream]))
	for i, e := range s.streams[stream] {
		out[i] = *e
	}
	return out
}

// trackingListener remembers each accepted connection by its remote
// address so that one can be cut.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns[c.RemoteAddr().String()] = c
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) drop(remote string) {
	l.mu.Lock()
	c := l.conns[remote]
	delete(l.conns, remote)
	l.mu.Unlock()
	if c != nil {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset, as a crashed host or a cut cable gives
		}
		c.Close()
	}
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	remotes := make([]string, 0, len(l.conns))
	for r := range l.conns {
		remotes = append(remotes, r)
	}
	l.mu.Unlock()
	for _, r := range remotes {
		l.drop(r)
	}
}

// featuresService answers the client's connection-time feature query.
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

func (*featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const svc = "event_store.client.streams.streams"
	return &serverfeatures.SupportedMethods{
		// A version the client parses; the stand-in follows the 24.x/25.x
		// server's Streams handlers.
		EventStoreServerVersion: "25.0.0",
		Methods: []*serverfeatures.SupportedMethod{
			{MethodName: "read", ServiceName: svc},
			{MethodName: "append", ServiceName: svc},
		},
	}, nil
}

type streamsService struct {
	api.UnimplementedStreamsServer
	s *standIn
}

// The server's expected-version numbers (ExpectedVersion in its core).
const (
	expectedAny          int64 = -2
	expectedNoStream     int64 = -1
	expectedStreamExists int64 = -4
)

// rpcError is the server's RpcException: a status with the server's
// "exception" trailer naming the case.
func rpcError(ctx context.Context, code codes.Code, exception, msg string, extra ...string) error {
	md := metadata.Pairs(append([]string{"exception", exception}, extra...)...)
	grpc.SetTrailer(ctx, md)
	return status.Error(code, msg)
}

func (ss *streamsService) Append(srv api.Streams_AppendServer) error {
	s, ctx := ss.s, srv.Context()
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.Unknown, "the first message of an append must be its options")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	var expected int64
	switch o := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Revision:
		expected = int64(o.Revision)
	case *api.AppendReq_Options_NoStream:
		expected = expectedNoStream
	case *api.AppendReq_Options_Any:
		expected = expectedAny
	case *api.AppendReq_Options_StreamExists:
		expected = expectedStreamExists
	default:
		return status.Errorf(codes.InvalidArgument, "no expected stream revision")
	}
	s.mu.Lock()
	limit := s.maxAppendSize
	s.mu.Unlock()
	var evs []*storedEvent
	size := 0
	for {
		req, err := srv.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		pm := req.GetProposedMessage()
		if pm == nil {
			return status.Error(codes.Unknown, "an append's messages after the first must be events")
		}
		typ, ok := pm.Metadata["type"]
		if !ok {
			return rpcError(ctx, codes.InvalidArgument, "missing-required-metadata-property", "Required Metadata Property 'type' is missing", "required-properties", "type")
		}
		ct, ok := pm.Metadata["content-type"]
		if !ok {
			return rpcError(ctx, codes.InvalidArgument, "missing-required-metadata-property", "Required Metadata Property 'content-type' is missing", "required-properties", "content-type")
		}
		id, err := uuidFromProto(pm.GetId())
		if err != nil || id == uuid.Nil {
			return status.Errorf(codes.InvalidArgument, "event id: %v", err)
		}
		size += len(pm.Data) + len(pm.CustomMetadata) + 2*len(utf16.Encode([]rune(typ)))
		if size > limit {
			return rpcError(ctx, codes.InvalidArgument, "maximum-append-size-exceeded", fmt.Sprintf("Maximum Append Size of %d Exceeded.", limit), "maximum-append-size", strconv.Itoa(limit))
		}
		evs = append(evs, &storedEvent{id: id, typ: typ, json: ct == "application/json", data: pm.Data, meta: pm.CustomMetadata})
	}
	if f := s.take(faultDropBeforeWrite, stream); f != nil {
		close(f.fired)
		s.dropConn(ctx)
		return status.Error(codes.Unavailable, "stand-in: connection dropped before the write")
	}
	if f := s.take(faultBeforeDecide, stream); f != nil {
		f.fn()
		close(f.fired)
	}
	resp := s.write(stream, expected, evs)
	if f := s.take(faultDropAfterWrite, stream); f != nil {
		close(f.fired)
		s.dropConn(ctx)
		return status.Error(codes.Unavailable, "stand-in: connection dropped after the write")
	}
	return srv.SendAndClose(resp)
}

// write decides an append as the server's commit check does and stores
// its events if it is accepted.
func (s *standIn) write(stream string, expected int64, evs []*storedEvent) *api.AppendResp {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := int64(len(s.streams[stream])) - 1 // -1: no stream
	wrong := func() *api.AppendResp { return wrongExpectedVersion(expected, cur) }
	if expected == expectedStreamExists && cur < 0 && len(s.streams["$$"+stream]) == 0 {
		return wrong()
	}
	switch {
	case expected == expectedAny || expected == expectedStreamExists:
		// Idempotent if every id is already stored in this stream.
		var last uint64
		for i, e := range evs {
			ref, ok := s.ids[e.id]
			if !ok || ref.stream != stream {
				if i == 0 {
					return s.store(stream, evs)
				}
				return wrong() // some stored, some not: not a retry
			}
			last = ref.rev
		}
		if len(evs) == 0 {
			return s.store(stream, evs)
		}
		return s.success(stream, int64(last))
	case expected < cur:
		// A retry if the events are the ones stored right after expected.
		n := expected
		for _, e := range evs {
			n++
			if n > cur || s.streams[stream][n].id != e.id {
				return wrong()
			}
		}
		if n == expected {
			return wrong()
		}
		return s.success(stream, n)
	case expected > cur:
		return wrong()
	default:
		return s.store(stream, evs)
	}
}

func (s *standIn) store(stream string, evs []*storedEvent) *api.AppendResp {
	now := time.Now().UnixNano() / 100
	for _, e := range evs {
		e.rev = uint64(len(s.streams[stream]))
		e.created = now
		s.logPos += uint64(64 + len(e.data) + len(e.meta) + len(stream) + len(e.typ))
		e.logPos = s.logPos
		s.streams[stream] = append(s.streams[stream], e)
		s.ids[e.id] = idRef{stream: stream, rev: e.rev}
	}
	return s.success(stream, int64(len(s.streams[stream]))-1)
}

// success answers with the stream's revision after the append (the last
// event the append covers) and that event's log position.
func (s *standIn) success(stream string, last int64) *api.AppendResp {
	ok := &api.AppendResp_Success{}
	if last < 0 {
		ok.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
		ok.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	} else {
		e := s.streams[stream][last]
		ok.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(last)}
		ok.PositionOption = &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: e.logPos, PreparePosition: e.logPos}}
	}
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: ok}}
}

// wrongExpectedVersion is the server's answer to a refused append.
func wrongExpectedVersion(expected, cur int64) *api.AppendResp {
	w := &api.AppendResp_WrongExpectedVersion{}
	switch expected {
	case expectedAny:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	case expectedStreamExists:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	case expectedNoStream:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: ^uint64(0)}
	default:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: uint64(expected)}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: uint64(expected)}
	}
	if cur < 0 {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(cur)}
	}
	return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

func (ss *streamsService) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	s, ctx := ss.s, srv.Context()
	o := req.GetOptions()
	switch {
	case o.GetAll() != nil:
		return status.Error(codes.Unimplemented, "stand-in: $all is not served (the backend never reads it)")
	case o.GetSubscription() != nil:
		return status.Error(codes.Unimplemented, "stand-in: subscriptions are not served")
	case o.GetFilter() != nil:
		return status.Error(codes.Unimplemented, "stand-in: filters are not served")
	case o.GetResolveLinks():
		return status.Error(codes.Unimplemented, "stand-in: link resolution is not served")
	}
	so := o.GetStream()
	stream := string(so.GetStreamIdentifier().GetStreamName())
	s.mu.Lock()
	all := append([]*storedEvent(nil), s.streams[stream]...)
	s.mu.Unlock()
	if len(all) == 0 {
		return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)}}}})
	}
	last := int64(len(all)) - 1
	first := int64(0)
	if strings.HasPrefix(stream, "$$") {
		first = last // metadata streams: $maxCount 1
	}
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards
	var from int64
	switch r := so.GetRevisionOption().(type) {
	case *api.ReadReq_Options_StreamOptions_Revision:
		from = int64(min(r.Revision, uint64(1)<<62))
	case *api.ReadReq_Options_StreamOptions_Start:
		from = 0
	case *api.ReadReq_Options_StreamOptions_End:
		from = last + 1
		if backwards {
			from = last
		}
	default:
		return status.Error(codes.InvalidArgument, "no revision option")
	}
	var revs []int64
	if backwards {
		for r := min(from, last); r >= first && uint64(len(revs)) < o.GetCount(); r-- {
			revs = append(revs, r)
		}
	} else {
		for r := max(from, first); r <= last && uint64(len(revs)) < o.GetCount(); r++ {
			revs = append(revs, r)
		}
	}
	drop := s.take(faultDropMidRead, stream)
	if drop != nil && drop.n >= len(revs) {
		// Not this read: too short to be cut; keep the fault for the next.
		s.mu.Lock()
		s.faults = append(s.faults, drop)
		s.mu.Unlock()
		drop = nil
	}
	structured := o.GetUuidOption().GetString_() == nil
	for i, r := range revs {
		if drop != nil && i == drop.n {
			// Let what was sent reach the client before the reset.
			time.Sleep(50 * time.Millisecond)
			close(drop.fired)
			s.dropConn(ctx)
			return status.Error(codes.Unavailable, "stand-in: connection dropped mid-read")
		}
		if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Event{Event: readEvent(stream, all[r], structured)}}); err != nil {
			return err
		}
	}
	return nil
}

func readEvent(stream string, e *storedEvent, structured bool) *api.ReadResp_ReadEvent {
	ct := "application/octet-stream"
	if e.json {
		ct = "application/json"
	}
	return &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               uuidToProto(e.id, structured),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(stream)},
			StreamRevision:   e.rev,
			PreparePosition:  e.logPos,
			CommitPosition:   e.logPos,
			Metadata:         map[string]string{"type": e.typ, "content-type": ct, "created": strconv.FormatInt(e.created, 10)},
			CustomMetadata:   e.meta,
			Data:             e.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: e.logPos},
	}
}

// uuidFromProto reads an event id as the server does: structured, the
// UUID's first and last 8 bytes as big-endian signed integers, or its
// string form.
func uuidFromProto(u *shared.UUID) (uuid.UUID, error) {
	if st := u.GetStructured(); st != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(st.MostSignificantBits))
		binary.BigEndian.PutUint64(id[8:], uint64(st.LeastSignificantBits))
		return id, nil
	}
	return uuid.Parse(u.GetString_())
}

func uuidToProto(id uuid.UUID, structured bool) *shared.UUID {
	if !structured {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}
