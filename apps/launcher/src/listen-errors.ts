/** Why a server could not listen, naming the variables that say where. */
export function cannotListen(what: string, portVariable: string, host: string, port: number, error: NodeJS.ErrnoException): string {
  if (error.code === 'EADDRINUSE') {
    return `Port ${port} on ${host} is taken by another program: stop it, or set ${portVariable} to another port (0 lets the system pick one).`;
  }
  if (error.code === 'ENOTFOUND' || error.code === 'EADDRNOTAVAIL' || error.code === 'EAI_AGAIN') {
    return `The ${what} cannot listen on ${host}: no interface of this machine has that address (HOST: an address such as 0.0.0.0, 127.0.0.1 or ::).`;
  }
  return `The ${what} cannot listen on ${host}:${port} (HOST, ${portVariable}): ${error.message}.`;
}
