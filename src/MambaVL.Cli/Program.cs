// The mambavl executable: hands the arguments and the process's streams to the testable entry point.
return await MambaVL.Cli.MambaVlCli.RunConsoleAsync(args);
