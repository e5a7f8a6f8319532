Console.Error.WriteLine("not implemented yet: see the README");
return 2;
