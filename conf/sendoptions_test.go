package conf

import "testing"

func TestParseSendOptions(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"8", 8}, {"async", 8}, {"asynchronous", 8}, {"2", 2}, {"use_ack", 2},
		{"6", 6}, {"use_ack,sync", 6}, {"USE_ACK, synchronized_ack", 6}, {"byte_message,async", 9},
	} {
		got, err := ParseSendOptions(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSendOptions(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"fast", "", "async,,", "-1"} {
		if _, err := ParseSendOptions(bad); err == nil {
			t.Errorf("ParseSendOptions(%q) accepted", bad)
		}
	}
	if got := FormatSendOptions(6); got != "use_ack,sync" {
		t.Errorf("FormatSendOptions(6) = %q", got)
	}
}

// Tomcat 5.5's sender settings become channelSendOptions (doc.go).
func TestLegacyReplicationMode(t *testing.T) {
	for _, tt := range []struct {
		sender string
		want   int
	}{
		{`replicationMode="pooled" waitForAck="true"`, 6},
		{`replicationMode="synchronous" waitForAck="true"`, 6},
		{`replicationMode="pooled"`, 2},
		{`replicationMode="pooled" waitForAck="false"`, 2},
		{`waitForAck="true"`, 6},
		{`replicationMode="asynchronous" waitForAck="true"`, 8},
		{`replicationMode="fastasyncqueue"`, 8},
	} {
		doc := srv(`port="8005"`, `jvmRoute="n"`, `<Cluster className="org.apache.catalina.cluster.tcp.SimpleTcpCluster">
        <Sender className="org.apache.catalina.cluster.tcp.ReplicationTransmitter" `+tt.sender+`/>
      </Cluster>`)
		s, _, err := Parse("t.xml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Cluster().ChannelSendOptions; got != tt.want {
			t.Errorf("%s: channelSendOptions = %d, want %d", tt.sender, got, tt.want)
		}
	}
}
