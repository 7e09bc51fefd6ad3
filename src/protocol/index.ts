// The wire contract, shared by the server and the client SDK. Imports nothing.

export * from './dialect.js';
export * from './key.js';
export * from './errors.js';
export * from './client-message.js';
export * from './server-message.js';
export * from './server-frame.js';
export * from './ice-servers.js';
export * from './raw-json.js';
export * from './y-webrtc.js';
export * from './peerjs.js';
