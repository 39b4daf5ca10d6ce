console.log('pgo-ledger: command line not built yet');
