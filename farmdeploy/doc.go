// Package farmdeploy is Gomcat's FarmWarDeployer: a bundle (.gar) dropped in
// the watch directory of one node is deployed there and pushed to every
// member of the cluster, which verifies it (size and SHA-256), moves it into
// its deploy directory and deploys it. Removing the bundle undeploys it
// everywhere. Unlike Tomcat, a member that joins later (or was down during a
// deploy) catches up: it asks for the watching node's manifest when it joins
// and fetches what it lacks.
//
// The package sees the cluster only through the Cluster interface it
// declares (built-in types only) and the host only through Installer, so its
// tests run on transport/transporttest's in-memory hub.
//
// Wire: messages travel on the cluster's farm channel, CBOR-encoded (msg.go).
// Chunks of one transfer are sent in order on the sender's FIFO connection,
// so the receiver writes them sequentially with no reassembly map. A
// manifest is sent on a goroutine of its own, so it can arrive after a push
// that began later: every change of the watching node's bundles gets a
// generation that only grows (entry.Gen, carried by FILE-START and, as the
// latest one, by MANIFEST), and a manifest undeploys only bundles installed
// from a generation it had seen.
//
// Membership: joins and leaves come from Cluster.Subscribe (the callback
// only records them and wakes the loop); nothing polls Members.
//
// Goroutines: Start runs one loop goroutine (the watcher and the
// stale-transfer sweeper share its ticker; it also handles the membership
// wake-ups), one applying installs
// and undeploys in order, on Linux one reading inotify events for the watch
// directory (a bundle renamed in deploys at once instead of at the next
// poll), and one goroutine per push or message in progress; Stop cancels
// them all and waits. Deliver runs on the caller's
// goroutine (the transport's per-connection reader) and never blocks on a
// push.
//
// Locks: Deployer.mu guards transfers, the status table and the installed
// set; it is never held while calling the Cluster or the Installer.
package farmdeploy
