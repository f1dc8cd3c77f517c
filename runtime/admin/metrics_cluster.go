package admin

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomcat/gomcat/mcast"
	"github.com/gomcat/gomcat/runtime/cluster"
)

// ClusterView is what ClusterCollector reads; *cluster.Cluster has it.
type ClusterView interface {
	Stats() cluster.Stats
	Members() []cluster.MemberInfo
	MembershipStats() mcast.Stats
}

// ClusterCollector exports membership, heartbeat, channel and transport
// counters. get returns nil while the cluster is not running.
func ClusterCollector(get func() ClusterView) prometheus.Collector {
	m := &metricSet{}
	members := m.desc(ns+"_cluster_members", "Members of the cluster as this node sees them (itself excluded), by state.", "state")
	events := m.desc(ns+"_cluster_membership_events_total", "Membership changes: added, disappeared (silent past dropTime), left (said goodbye), replaced (restarted), updated.", "event")
	probes := m.desc(ns+"_cluster_probes_total", "Failure-detector probes of a member's receiver.")
	probeFail := m.desc(ns+"_cluster_probe_failures_total", "Failure-detector probes that found no receiver.")
	hbSent := m.desc(ns+"_membership_heartbeats_sent_total", "Heartbeats (membership datagrams) sent.")
	hbRecv := m.desc(ns+"_membership_heartbeats_received_total", "Datagrams read from the membership socket, this node's own included.")
	hbRej := m.desc(ns+"_membership_heartbeats_rejected_total", "Heartbeats ignored or refused, by reason.", "reason")
	hbErr := m.desc(ns+"_membership_socket_errors_total", "Membership socket errors, by direction.", "direction")
	chSent := m.desc(ns+"_cluster_messages_sent_total", "Cluster messages sent, by channel (1 sessions, 2 farm).", "channel")
	chRecv := m.desc(ns+"_cluster_messages_received_total", "Cluster messages received, by channel.", "channel")
	chFail := m.desc(ns+"_cluster_send_failures_total", "Cluster sends that failed (returned an error, or an async message lost after queueing), by channel.", "channel")
	chDeliv := m.desc(ns+"_cluster_deliver_errors_total", "Inbound cluster messages the consumer refused, by channel.", "channel")
	frames := m.desc(ns+"_transport_frames_sent_total", "Frames written to a peer, re-sends included.", "peer")
	sentBytes := m.desc(ns+"_transport_sent_bytes_total", "Frame bytes written to a peer (sealing included), counted after each successful write.", "peer")
	acked := m.desc(ns+"_transport_messages_acked_total", "Messages a peer confirmed.", "peer")
	failed := m.desc(ns+"_transport_messages_failed_total", "Messages given up on (send errors), per peer.", "peer")
	reconn := m.desc(ns+"_transport_reconnects_total", "Connections to a peer made after a lost or failed one.", "peer")
	qBytes := m.desc(ns+"_transport_queue_bytes", "Bytes queued or in flight to a peer, not yet acknowledged.", "peer")
	qMsgs := m.desc(ns+"_transport_queue_messages", "Messages queued or in flight to a peer, not yet acknowledged.", "peer")
	conn := m.desc(ns+"_transport_peer_connected", "1 while the connection to a peer is open.", "peer")
	rAcc := m.desc(ns+"_transport_receiver_connections_accepted_total", "Connections the receiver accepted.")
	rAct := m.desc(ns+"_transport_receiver_connections", "Receiver connections open now.")
	rMsg := m.desc(ns+"_transport_receiver_messages_total", "Messages the receiver handed on.")
	rDup := m.desc(ns+"_transport_receiver_duplicates_total", "Re-sent messages recognised and not handled again.")
	rErr := m.desc(ns+"_transport_receiver_errors_total", "Receiver errors, by kind (handler, protocol, seal).", "kind")
	rBytes := m.desc(ns+"_transport_receiver_read_bytes_total", "Bytes the receiver read from all its connections (hellos and frames).")
	rClosed := m.desc(ns+"_transport_receiver_connections_closed_total", "Receiver connections closed by the node, by reason: refused (over maxConnections or maxConnectionsPerHost), unadmitted (hello refused), idle, frame_timeout.", "reason")
	m.collect = func(e emitter) {
		v := get()
		if v == nil {
			return
		}
		st := v.Stats()
		live, suspect := 0, 0
		for _, mi := range v.Members() {
			if mi.State == "suspect" {
				suspect++
			} else {
				live++
			}
		}
		e.gauge(members, float64(live), "live")
		e.gauge(members, float64(suspect), "suspect")
		for _, x := range []struct {
			n string
			v uint64
		}{{"added", st.Added}, {"disappeared", st.Disappeared}, {"left", st.Left}, {"replaced", st.Replaced}, {"updated", st.Updated}} {
			e.counter(events, x.v, x.n)
		}
		e.counter(probes, st.Probes)
		e.counter(probeFail, st.ProbeFailures)
		ms := v.MembershipStats()
		e.counter(hbSent, ms.Sent)
		e.counter(hbRecv, ms.Received)
		for _, x := range []struct {
			n string
			v uint64
		}{{"decode_error", ms.DecodeErrors}, {"sealing", ms.Rejected}, {"other_domain", ms.OtherDomain},
			{"misdirected", ms.Misdirected}, {"conflict", ms.Conflicts}, {"foreign", ms.Foreign}} {
			e.counter(hbRej, x.v, x.n)
		}
		e.counter(hbErr, ms.SendErrors, "send")
		e.counter(hbErr, ms.ReceiveErrors, "receive")
		for _, c := range st.Channels {
			ch := strconv.Itoa(int(c.Channel))
			e.counter(chSent, c.Sent, ch)
			e.counter(chRecv, c.Received, ch)
			e.counter(chFail, c.SendFailures+c.AsyncFailures, ch)
			e.counter(chDeliv, c.DeliverErrors, ch)
		}
		for _, p := range st.Peers {
			e.counter(frames, p.Sent, p.Addr)
			e.counter(sentBytes, p.SentBytes, p.Addr)
			e.counter(acked, p.Acked, p.Addr)
			e.counter(failed, p.Failed, p.Addr)
			e.counter(reconn, p.Reconnects, p.Addr)
			e.gauge(qBytes, float64(p.QueuedBytes), p.Addr)
			e.gauge(qMsgs, float64(p.QueuedMessages), p.Addr)
			c := 0.0
			if p.Connected {
				c = 1
			}
			e.gauge(conn, c, p.Addr)
		}
		r := st.Receiver
		e.counter(rAcc, r.Accepted)
		e.gauge(rAct, float64(r.Active))
		e.counter(rMsg, r.Messages)
		e.counter(rDup, r.Duplicates)
		e.counter(rErr, r.HandlerErrors, "handler")
		e.counter(rErr, r.ProtocolErrors, "protocol")
		e.counter(rErr, r.SealErrors, "seal")
		e.counter(rBytes, r.BytesReceived)
		e.counter(rClosed, r.Refused, "refused")
		e.counter(rClosed, r.Unadmitted, "unadmitted")
		e.counter(rClosed, r.IdleClosed, "idle")
		e.counter(rClosed, r.FrameTimeouts, "frame_timeout")
	}
	return m
}
