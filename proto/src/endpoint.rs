//! All links of one client over one UDP socket.
