"""The entraide node: keystore, configuration, storage and transports around the protocol."""
