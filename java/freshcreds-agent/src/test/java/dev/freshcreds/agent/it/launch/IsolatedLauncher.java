package dev.freshcreds.agent.it.launch;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;

/**
 * Runs an application whose classes and AWS SDK live only in a child class loader, as in
 * application servers. Usage: {@code IsolatedLauncher child-first|parent-first CLASSPATH MAIN
 * ARGS...}: child-first is Tomcat's web application loader, parent-first Spring Boot's.
 */
public final class IsolatedLauncher {
    private IsolatedLauncher() {}

    public static void main(String[] args) throws Exception {
        String[] entries = args[1].split(File.pathSeparator);
        URL[] urls = new URL[entries.length];
        for (int i = 0; i < entries.length; i++) {
            urls[i] = new File(entries[i]).toURI().toURL();
        }
        ClassLoader parent = IsolatedLauncher.class.getClassLoader();
        ClassLoader child = args[0].equals("child-first") ? new ChildFirst(urls, parent) : new URLClassLoader(urls, parent);
        Thread.currentThread().setContextClassLoader(child);
        Class<?> main = Class.forName(args[2], true, child);
        if (main.getClassLoader() != child) {
            throw new IllegalStateException(main + " was not loaded by the child loader");
        }
        System.out.println("loader=" + child.getClass().getSimpleName());
        Method m = main.getMethod("main", String[].class);
        m.invoke(null, (Object) Arrays.copyOfRange(args, 3, args.length));
    }

    /** Child-first, except the platform's own classes. */
    static final class ChildFirst extends URLClassLoader {
        static {
            ClassLoader.registerAsParallelCapable();
        }

        ChildFirst(URL[] urls, ClassLoader parent) {
            super(urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null && !name.startsWith("java.") && !name.startsWith("javax.") && !name.startsWith("sun.")) {
                    try {
                        c = findClass(name);
                    } catch (ClassNotFoundException e) {
                        c = null;
                    }
                }
                if (c == null) {
                    c = super.loadClass(name, false);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }
}
