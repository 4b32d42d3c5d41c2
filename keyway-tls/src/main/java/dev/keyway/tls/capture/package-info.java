/**
 * Reading captures for passive decryption: pcap and pcapng files ({@link dev.keyway.tls.capture.Capture}),
 * their link, IP and TCP headers, and each TCP connection reassembled into its two byte streams
 * ({@link dev.keyway.tls.capture.TcpConnection}), with warnings for what the capture lost.
 */
package dev.keyway.tls.capture;
