"""A simulator of a whole town of entraide nodes, in virtual time (``entraide simulate``).

It answers questions one machine cannot answer with real processes ("will an alert reach
every household?") by driving the **real protocol core** for a thousand nodes or more:

- real: every message is signed (protocol.envelope.seal) and every node runs the receiver
  checks on what it receives (decode, signature, zone, skew, expiry; signatures verified once
  per distinct envelope and cached, their CPU charged per node in simulated time); the
  per-author rate limiter (protocol.ratelimit); catch-up is the real reconciliation state
  machine (protocol.reconcile.SyncSession) with node/sync.py's policy; on LoRa, the framing,
  fragments, summaries and reassembly (protocol.radio_frame), the airtime scheduler
  (radio.scheduler), the handset texts (protocol.handset) and the airspace with the
  firmware's managed flooding, collisions and duty cycle (radio.airspace);
- modelled: the IP links (latency, loss, bandwidth; node.sim.ipnet), GossipSub inside
  py-libp2p (node.sim.gossip, with node/wifi.py's parameters), CPU time per node, and the
  trio shells of node/sync.py and node/lora.py whose decisions the simulator repeats.

Modules: ``loop`` (the event heap), ``messages`` (households, signing, checks), ``ipnet``,
``gossip``, ``sync``, ``wifi`` (a town of Wi-Fi nodes), ``lora`` (a LoRa airspace of nodes),
``figures`` (the scenarios and what they measure), ``report`` (the anchors, the table).
"""
